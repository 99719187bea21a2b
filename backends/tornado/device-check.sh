#!/usr/bin/env bash
# The TornadoVM device check (DeviceCheck): probe, per-shape comparison with the cpu backend, and the time of one
# AdaRound iteration per ResNet-8 layer shape on the device and on the cpu backend.
# usage: TORNADO_SDK=... JAVA_HOME=... device-check.sh CLASSPATH [backend:device] [timed steps]
# CLASSPATH holds tinyptq's api, kernels, tornado (+ its test classes), cpu and testkit jars and junit-jupiter-api.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cp="$1"; shift
export TORNADOVM_HOME="${TORNADOVM_HOME:-$TORNADO_SDK}"
mapfile -t flags < <("$here/../../bin/tornado-flags")
exec "$JAVA_HOME/bin/java" "${flags[@]}" --module-path "$TORNADO_SDK/share/java/tornado" \
    --add-modules ALL-SYSTEM,tornado.runtime,tornado.annotation,tornado.drivers.common,tornado.drivers.opencl \
    --add-modules jdk.incubator.vector --enable-native-access=tornado.drivers.opencl -cp "$cp" io.tinyptq.backend.tornado.DeviceCheck "$@"
