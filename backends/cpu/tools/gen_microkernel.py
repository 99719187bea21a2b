# Writes MicroKernel.java: the unrolled 8x2VL and 8xVL GEMM tiles between the hand-written head and tail.
# Run from backends/cpu: python3 tools/gen_microkernel.py
def gen_tile(npan):
    L=[]
    name = "tile2" if npan==2 else "tile1"
    L.append("    /** An 8 x %s tile; see the class comment for the operand conventions. */" % ("2VL" if npan==2 else "VL"))
    L.append("    static void %s(float[] a, int a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7," % name)
    L.append("                      int segs, int segStride, int run, float[] bp, int bOff0, int bOff1,")
    L.append("                      float[] tile) {")
    L.append("        FloatVector zero = FloatVector.zero(S);")
    for i in range(8):
        L.append("        FloatVector " + ", ".join("c%d%d = zero" % (i,j) for j in range(npan)) + ";")
    L.append("        int k0 = bOff0;")
    if npan==2: L.append("        int k1 = bOff1;")
    L.append("        for (int s = 0; s < segs; s++) {")
    L.append("            int o = s * segStride;")
    L.append("            int " + ", ".join("p%d = a%d + o" % (i,i) for i in range(8)) + ";")
    L.append("            for (int q = 0; q < run; q++) {")
    L.append("                FloatVector b0 = FloatVector.fromArray(S, bp, k0);")
    L.append("                k0 += VL;")
    if npan==2:
        L.append("                FloatVector b1 = FloatVector.fromArray(S, bp, k1);")
        L.append("                k1 += VL;")
    for i in range(8):
        L.append("                FloatVector x%d = FloatVector.broadcast(S, a[p%d + q]);" % (i,i))
        for j in range(npan):
            L.append("                c%d%d = x%d.fma(b%d, c%d%d);" % (i,j,i,j,i,j))
    L.append("            }")
    L.append("        }")
    full = "2 * VL" if npan==2 else "VL"
    for i in range(8):
        for j in range(npan):
            L.append("        c%d%d.intoArray(tile, %d * %s%s);" % (i,j,i,full," + VL" if j==1 else ""))
    L.append("    }")
    return "\n".join(L)

def gen_tile_t(npan):
    # A read transposed: element (i, k) at a[pa + k*lda + d_i], i.e. rows i are consecutive columns of a row-major
    # matrix (d_i = i, clamped to the last valid row of an edge tile) and the depth walks its rows.
    L=[]
    name = "tile2t" if npan==2 else "tile1t"
    L.append("    /** An 8 x %s tile with A transposed (see {@link #gemmTransposedA}). */" % ("2VL" if npan==2 else "VL"))
    L.append("    static void %s(float[] a, int pa, int lda, int depth, int d0, int d1, int d2, int d3, int d4, int d5," % name)
    L.append("                       int d6, int d7, float[] bp, int bOff0, int bOff1, float[] tile) {")
    L.append("        FloatVector zero = FloatVector.zero(S);")
    for i in range(8):
        L.append("        FloatVector " + ", ".join("c%d%d = zero" % (i,j) for j in range(npan)) + ";")
    L.append("        int k0 = bOff0;")
    if npan==2: L.append("        int k1 = bOff1;")
    L.append("        int p = pa;")
    L.append("        for (int q = 0; q < depth; q++) {")
    L.append("            FloatVector b0 = FloatVector.fromArray(S, bp, k0);")
    L.append("            k0 += VL;")
    if npan==2:
        L.append("            FloatVector b1 = FloatVector.fromArray(S, bp, k1);")
        L.append("            k1 += VL;")
    for i in range(8):
        L.append("            FloatVector x%d = FloatVector.broadcast(S, a[p + d%d]);" % (i,i))
        for j in range(npan):
            L.append("            c%d%d = x%d.fma(b%d, c%d%d);" % (i,j,i,j,i,j))
    L.append("            p += lda;")
    L.append("        }")
    full = "2 * VL" if npan==2 else "VL"
    for i in range(8):
        for j in range(npan):
            L.append("        c%d%d.intoArray(tile, %d * %s%s);" % (i,j,i,full," + VL" if j==1 else ""))
    L.append("    }")
    return "\n".join(L)

head = open('tools/microkernel-head.java.txt').read()
tail = open('tools/microkernel-tail.java.txt').read()
open('src/main/java/io/tinyptq/backend/cpu/kernels/MicroKernel.java','w').write(head + gen_tile(2) + "\n\n" + gen_tile(1) + "\n\n" + gen_tile_t(2) + "\n\n"
                                                                       + gen_tile_t(1) + tail)
