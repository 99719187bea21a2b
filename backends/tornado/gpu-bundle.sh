#!/usr/bin/env bash
# Packs what the device check needs on a machine without Java (a lent GPU machine) into one archive, outside git:
# a jlink'd Java 25 runtime, TornadoVM's run-time parts from $TORNADO_SDK (its jars, the Graal compiler jars, the
# OpenCL JNI library, export lists), an OpenCL vendor file for NVIDIA's driver, and tinyptq's classes.
# usage: TORNADO_SDK=... backends/tornado/gpu-bundle.sh [out.tar.gz]   (default .gpu/bundle.tar.gz; build first with
#        ./mvnw install -Dtornado.sdk=$TORNADO_SDK -DskipTests, then also ./mvnw test-compile -pl backends/tornado)
# On the machine: tar xzf bundle.tar.gz -C /tmp/b; TORNADO_SDK=/tmp/b/tornado JAVA_HOME=/tmp/b/jre
#   OCL_ICD_VENDORS=/tmp/b/vendors backends/tornado/device-check.sh "$(cat /tmp/b/app/classpath)" "" 500
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
sdk="${TORNADO_SDK:?set TORNADO_SDK}"
out="${1:-$root/.gpu/bundle.tar.gz}"
java_home="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
"$java_home/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.internal.vm.ci,jdk.graal.compiler,jdk.graal.compiler.management,jdk.incubator.vector \
    --strip-debug --no-header-files --no-man-pages --output "$stage/jre" 2> >(grep -v 'incubator modules' >&2)
mkdir -p "$stage/tornado/share/java/tornado" "$stage/vendors" "$stage/app"
# The Graal compiler and what it needs; the SDK's polyglot and Truffle API jars serve features tinyptq does not use.
mkdir -p "$stage/tornado/share/java/graalJars"
for j in collections compiler truffle-compiler word; do
    cp "$sdk"/share/java/graalJars/$j-[0-9]*.jar "$stage/tornado/share/java/graalJars/"
done
cp -r "$sdk/lib" "$sdk/etc" "$stage/tornado/"
for j in tornado-api tornado-runtime tornado-annotation tornado-drivers-common tornado-drivers-opencl asm commons-math3 snmp4j; do
    cp "$sdk"/share/java/tornado/$j-[0-9]*.jar "$stage/tornado/share/java/tornado/"
done
echo libnvidia-opencl.so.1 > "$stage/vendors/nvidia.icd"
cp=()
for d in backends/tornado/target/test-classes backends/tornado/target/classes backends/kernels/target/classes \
         api/target/classes backends/cpu/target/classes testkit/target/classes; do
    [ -d "$root/$d" ] || { echo "missing $d: build first (see usage)" >&2; exit 1; }
    mkdir -p "$stage/app/$d" && cp -r "$root/$d/." "$stage/app/$d/"
    cp+=("/tmp/b/app/$d")
done
m2="${HOME}/.m2/repository"
for jar in "$(ls "$m2"/org/junit/jupiter/junit-jupiter-api/*/junit-jupiter-api-*.jar | grep -v sources | tail -1)" \
           "$(ls "$m2"/org/opentest4j/opentest4j/*/opentest4j-*.jar | grep -v sources | tail -1)"; do
    cp "$jar" "$stage/app/" && cp+=("/tmp/b/app/$(basename "$jar")")
done
(IFS=:; echo "${cp[*]}") > "$stage/app/classpath"
mkdir -p "$(dirname "$out")"
tar czf "$out" -C "$stage" .
ls -la "$out"
