#!/bin/bash
E=$(cd "$(dirname "$0")/.." && pwd)/src/EpgFast.Cli/bin/Release/net10.0/epg.dll
for i in 1 2; do
  rm -rf /tmp/mb1 /tmp/mb2
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "1 process, --threads 2: $(dotnet $E train --preset quick --epochs 20 --out /tmp/mb1 --backend cpu --report-tasks 0 --threads 2 --json 2>/dev/null | grep train_seconds)"
  echo "mpirun -np 2, --threads 1 each: $(mpirun -x TERM=dumb --allow-run-as-root -np 2 dotnet $E train --preset quick --epochs 20 --out /tmp/mb2 --backend cpu --report-tasks 0 --threads 1 --json 2>/dev/null | grep train_seconds)"
  cmp /tmp/mb1/metrics.csv /tmp/mb2/metrics.csv && echo "metrics.csv identical"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
