package io.tinyptq.api.spi;

import java.io.Serializable;

/**
 * What a backend runs on, as recorded in run provenance.
 *
 * @param backend   the backend's plugin name
 * @param device    the device in words ("CPU, 2 cores", "NVIDIA H100 via OpenCL")
 * @param threads   worker threads used
 * @param simdLanes float32 lanes per vector operation (1 when scalar)
 */
public record BackendInfo(String backend, String device, int threads, int simdLanes) implements Serializable {}
