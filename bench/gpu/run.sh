#!/usr/bin/env bash
# The GPU checklist, run on a lent GPU machine (no .NET there, no registry): unpacks the bundle that
# `dotnet pwsh ./build.ps1 gpu-bundle` made here and runs epg on CUDA, writing what comes back under $OUT.
#   device run, carry [".gpu/epg-linux-x64.tar.xz"]:  bash bench/gpu/run.sh selfcheck bench [train]
# Steps (in the order given; each one's log is $OUT/STEP.log, results next to it):
#   selfcheck  nvidia-smi, epg info, epg selfcheck --backend cuda (every network, task and physics check on the GPU)
#   bench      epg bench --suite all --backend cuda --learners 1024,4096,16384,65536 (the GPU's one MLP pass, the
#              group kernels; lean learners), and the learner suite with PPO (--alpha 0.5) at 4096
#   train      a gpu-preset run cut to a few epochs, for learner steps/s while training
# Every step has a time cap (the device tool allows 10 minutes per command). All three steps leave 8 files under
# $OUT, the most the device tool brings back: info, selfcheck, bench, bench-ppo and train logs, and bench/ with
# results.json, throughput.png and gflops.png.
set -uo pipefail
OUT=${OUT:-/tmp/epg-out}
mkdir -p "$OUT"
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle="$root/.gpu/epg-linux-x64.tar.xz"
[ -f "$bundle" ] || { echo "run.sh: $bundle missing: run 'dotnet pwsh ./build.ps1 gpu-bundle' here and carry it" >&2; exit 2; }
mkdir -p /tmp/epg && tar -C /tmp -xJf "$bundle" || exit 2
export LD_LIBRARY_PATH=/tmp/epg/lib:${LD_LIBRARY_PATH:-}
export EPG_MUJOCO_LIBRARY=/tmp/epg/lib/libmujoco.so.2.2.2
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
epg=/tmp/epg/bin/epg
status=0
step() { # name, seconds, command...
    local name=$1 secs=$2; shift 2
    echo "== $name: $*" | tee "$OUT/$name.log"
    timeout "$secs" "$@" >>"$OUT/$name.log" 2>&1
    local rc=$?
    echo "== $name: exit $rc" | tee -a "$OUT/$name.log"
    tail -n 25 "$OUT/$name.log"
    [ $rc -eq 0 ] || status=1
}
for what in "$@"; do
    case "$what" in
        selfcheck)
            step info 60 bash -c "nvidia-smi; $epg info"
            step selfcheck 240 "$epg" selfcheck --backend cuda ;;
        bench)
            step bench 330 "$epg" bench --suite all --backend cuda --learners 1024,4096,16384,65536 --seconds 2 --out "$OUT/bench"
            step bench-ppo 180 "$epg" bench --suite learner --backend cuda --learners 4096 --alpha 0.5 --json --out /tmp/epg-ppo ;;
        train)
            step train 300 "$epg" train --env goal-ant --preset gpu --epochs 3 --report-tasks 0 --backend cuda --out /tmp/epg-train ;;
        *) echo "run.sh: unknown step '$what' (selfcheck, bench, train)" >&2; exit 2 ;;
    esac
done
exit $status
