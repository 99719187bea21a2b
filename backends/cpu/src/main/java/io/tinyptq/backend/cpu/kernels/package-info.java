/**
 * Float32 forward and backward kernels of the CPU backend: plain {@code static} methods over flat
 * {@code float[]} arrays with explicit dimensions.
 *
 * <h2>Memory layout</h2>
 * Activations are NHWC, {@code [N,H,W,C]} row-major (one-dimensional ones {@code [N,W,C]}, i.e. {@code H = 1}),
 * the layout of TFLite models and of the api's IR. Weights keep the IR's layouts: conv2d {@code [Cout,kH,kW,Cin]},
 * depthwise {@code [kH,kW,Cin*m]} (output channel {@code c*m+j} reads input channel {@code c}), conv1d
 * {@code [Cout,k,Cin]} (a conv2d with {@code kH = 1}), fully connected {@code [out,in]}.
 * <p>Why channels last: the innermost, contiguous axis is the channel axis, which is also what every
 * vectorizable reduction runs over. With weights {@code [Cout][kH][kW][Cin]}, one kernel row of one output
 * pixel's receptive field ({@code kW*Cin} values) is contiguous in the input, so a convolution is a GEMM
 * {@code Y[M=N*oH*oW, Cout] = col(x)[M, K=kH*kW*Cin] . W^T} whose A rows can be read straight from the (padded)
 * input and whose output channels sit on the vector lanes; depthwise convolution and pooling vectorize across
 * channels directly; per-channel quantization of activations is along the last axis. (NCHW would put spatial
 * positions on the lanes, which strides badly for small tinyML feature maps and 1x1 convolutions.)
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>Each op has a scalar reference path ({@code *Reference}: loops only, no allocation, no objects: the
 *       form TornadoVM compiles, and the oracle of the tests) and, where it pays, a fast path (Vector API with
 *       {@code FloatVector.SPECIES_PREFERRED}, split across a {@link io.tinyptq.backend.cpu.kernels.Parallel}
 *       team, buffers from a caller-owned workspace so that hot loops never allocate).</li>
 *   <li>Forward methods overwrite their output; backward methods <em>add</em> into gradient arrays (a tensor
 *       consumed twice, as in a residual block, accumulates both gradients); callers zero gradients first.</li>
 *   <li>Spatial padding is passed explicitly as {@code padTop}/{@code padLeft} plus the output size;
 *       {@link io.tinyptq.backend.cpu.kernels.ConvShape#same} computes TensorFlow's SAME amounts.</li>
 *   <li>Wrong shapes or short arrays raise {@link java.lang.IllegalArgumentException} naming the shapes.</li>
 * </ul>
 */
package io.tinyptq.backend.cpu.kernels;
