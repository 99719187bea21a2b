package io.tinyptq.kernel.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.spi.Dataset;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TrainerSplitTest {

    /** 300 samples; sample i belongs to group 1 + (i * 7) % 20 when grouped (15 samples per group). */
    static Dataset data(boolean grouped) {
        return new Dataset() {
            @Override
            public String name() {
                return "toy";
            }

            @Override
            public int size() {
                return 300;
            }

            @Override
            public Shape sampleShape() {
                return Shape.of(1);
            }

            @Override
            public int numClasses() {
                return 2;
            }

            @Override
            public void read(int index, float[] dst, int offset) {
                dst[offset] = index;
            }

            @Override
            public int label(int index) {
                return index % 2;
            }

            @Override
            public boolean hasGroups() {
                return grouped;
            }

            @Override
            public int group(int index) {
                return grouped ? 1 + (index * 7) % 20 : -1;
            }
        };
    }

    @Test
    void groupSplitHoldsOutWholeGroupsCoveringTheFraction() {
        Dataset d = data(true);
        Trainer.ValidationSplit s = Trainer.split(d, 0.1, Trainer.Split.AUTO, 3);
        // 10 % of 300 = 30 samples = two groups of 15.
        assertEquals(2, s.groups().size());
        assertEquals(30, s.validation().length);
        assertEquals(270, s.train().length);
        Set<Integer> seen = new HashSet<>();
        for (int i : s.validation()) {
            assertTrue(s.groups().contains(d.group(i)));
            seen.add(i);
        }
        for (int i : s.train()) {
            assertFalse(s.groups().contains(d.group(i)), "sample " + i + " of a held-out group is in training");
            assertTrue(seen.add(i));
        }
        assertEquals(300, seen.size());
        // Seeded: the same seed gives the same split, another seed (almost surely) other groups.
        assertArrayEquals(
                s.train(), Trainer.split(d, 0.1, Trainer.Split.AUTO, 3).train());
        List<List<Integer>> picks = IntStream.range(0, 6)
                .mapToObj(
                        seed -> Trainer.split(d, 0.1, Trainer.Split.GROUP, seed).groups())
                .distinct()
                .toList();
        assertTrue(picks.size() > 1, picks.toString());
    }

    @Test
    void randomSplitIgnoresGroupsAndUngroupedDataCannotSplitByGroup() {
        Trainer.ValidationSplit r = Trainer.split(data(true), 0.1, Trainer.Split.RANDOM, 3);
        assertEquals(30, r.validation().length);
        assertTrue(r.groups().isEmpty());
        assertEquals(30, Trainer.split(data(false), 0.1, Trainer.Split.AUTO, 3).validation().length);
        var e = assertThrows(TinyPtqException.class, () -> Trainer.split(data(false), 0.1, Trainer.Split.GROUP, 3));
        assertTrue(e.getMessage().contains("has no groups to split by"), e.getMessage());
    }
}
