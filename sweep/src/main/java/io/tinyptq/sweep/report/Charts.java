package io.tinyptq.sweep.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StatisticalLineAndShapeRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * The report's charts, drawn with JFreeChart and written as PNG (JFreeChart's encoder) and SVG (JFreeSVG's
 * {@link SVGGraphics2D}): the Figure 8 trade-off and the Figures 4-7 style accuracy-vs-bit-width charts.
 */
final class Charts {
    static final int WIDTH = 720;
    static final int HEIGHT = 440;
    private static final Color[] PALETTE = {
        new Color(0x1f77b4),
        new Color(0xff7f0e),
        new Color(0x2ca02c),
        new Color(0xd62728),
        new Color(0x9467bd),
        new Color(0x8c564b),
        new Color(0xe377c2),
        new Color(0x7f7f7f),
        new Color(0xbcbd22),
        new Color(0x17becf)
    };

    private Charts() {}

    /** A chart written both ways: its file names (relative to the report folder) and the inline SVG element. */
    record Written(String name, String title, String png, String svg, String svgElement) {}

    /**
     * Accuracy against bit-width for one model, a line per method with ± std error bars (Figures 4-7 style), and
     * the FP accuracy as a line of its own.
     */
    static JFreeChart ablation(String model, List<Cell> cells) {
        DefaultStatisticalCategoryDataset ds = new DefaultStatisticalCategoryDataset();
        List<String> bits = new ArrayList<>();
        cells.forEach(c -> {
            if (!bits.contains(c.bits())) {
                bits.add(c.bits());
            }
        });
        Map<String, double[]> fp = new LinkedHashMap<>();
        for (Cell c : cells) {
            if (Double.isNaN(c.accuracy()) || Double.isNaN(c.fpAccuracy())) {
                continue; // not recorded (NULL in the database): no point rather than a false 0
            }
            ds.add(c.accuracy(), c.accuracyStd(), c.method(), "W" + c.weightBits() + "A" + c.activationBits());
            fp.computeIfAbsent("W" + c.weightBits() + "A" + c.activationBits(), k -> new double[2]);
            double[] s = fp.get("W" + c.weightBits() + "A" + c.activationBits());
            s[0] += c.fpAccuracy() * c.n();
            s[1] += c.n();
        }
        fp.forEach((col, s) -> ds.add(s[0] / s[1], 0, "full precision", col));
        JFreeChart chart = ChartFactory.createLineChart(
                model + ": accuracy vs bit-width (mean ± std over seeds)",
                "bit-width (weights/activations)",
                "top-1 accuracy (%)",
                ds,
                PlotOrientation.VERTICAL,
                true,
                false,
                false);
        CategoryPlot plot = chart.getCategoryPlot();
        StatisticalLineAndShapeRenderer r = new StatisticalLineAndShapeRenderer(true, true);
        int series = ds.getRowCount();
        for (int i = 0; i < series; i++) {
            boolean isFp = "full precision".equals(ds.getRowKey(i));
            r.setSeriesPaint(i, isFp ? Color.DARK_GRAY : PALETTE[i % PALETTE.length]);
            r.setSeriesStroke(
                    i,
                    isFp
                            ? new BasicStroke(
                                    1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
                            : new BasicStroke(2f));
        }
        r.setErrorIndicatorPaint(Color.GRAY);
        plot.setRenderer(r);
        style(chart);
        plot.getRangeAxis().setAutoRangeMinimumSize(5);
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        return chart;
    }

    /**
     * Figure 8: the accuracy drop of the best method at each bit-width against the saving it buys (BOPs or peak
     * memory, percent of FP32), a line per model, points labelled with their bit-widths.
     */
    static JFreeChart tradeoff(
            String what, Map<String, List<double[]>> pointsByModel, Map<String, List<String>> labelsByModel) {
        XYSeriesCollection ds = new XYSeriesCollection();
        pointsByModel.forEach((model, pts) -> {
            XYSeries s = new XYSeries(model, false, true);
            pts.forEach(p -> s.add(p[0], p[1]));
            ds.addSeries(s);
        });
        JFreeChart chart = ChartFactory.createXYLineChart(
                "Accuracy drop vs " + what + " saving (best method per" + " bit-width)",
                what + " saving vs FP32 (%)",
                "accuracy drop (points)",
                ds,
                PlotOrientation.VERTICAL,
                true,
                false,
                false);
        XYPlot plot = chart.getXYPlot();
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        int i = 0;
        for (var e : pointsByModel.entrySet()) {
            r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            r.setSeriesStroke(i, new BasicStroke(2f));
            List<String> labels = labelsByModel.get(e.getKey());
            for (int j = 0; j < e.getValue().size(); j++) {
                double[] p = e.getValue().get(j);
                XYTextAnnotation a = new XYTextAnnotation(labels.get(j), p[0], p[1]);
                a.setTextAnchor(TextAnchor.BOTTOM_RIGHT);
                a.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                a.setPaint(PALETTE[i % PALETTE.length]);
                plot.addAnnotation(a);
            }
            i++;
        }
        plot.setRenderer(r);
        ((NumberAxis) plot.getDomainAxis()).setAutoRangeIncludesZero(false);
        style(chart);
        return chart;
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        var plot = chart.getPlot();
        plot.setBackgroundPaint(Color.WHITE);
        if (plot instanceof CategoryPlot c) {
            c.setRangeGridlinePaint(new Color(0xdddddd));
        } else if (plot instanceof XYPlot x) {
            x.setRangeGridlinePaint(new Color(0xdddddd));
            x.setDomainGridlinePaint(new Color(0xdddddd));
        }
    }

    /** Writes {@code charts/NAME.png} and {@code charts/NAME.svg} under {@code dir}. */
    static Written write(JFreeChart chart, Path dir, String name, String title) throws IOException {
        Path charts = Files.createDirectories(dir.resolve("charts"));
        Path png = charts.resolve(name + ".png");
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
        SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
        chart.draw(g, new Rectangle(0, 0, WIDTH, HEIGHT));
        String element = g.getSVGElement();
        Files.writeString(charts.resolve(name + ".svg"), g.getSVGDocument(), StandardCharsets.UTF_8);
        return new Written(name, title, "charts/" + name + ".png", "charts/" + name + ".svg", element);
    }
}
