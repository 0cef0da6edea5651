#!/usr/bin/env bash
# One line describing the machine a benchmark ran on.
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
echo "$(nproc) cores ($cpu), $mem, $(uname -sr), $(swift --version 2>/dev/null | head -1)"
