#!/usr/bin/env bash
# A single-node Slurm cluster on localhost, for testing sxplan's job-array sweeps for real
# (tests/slurm_array.rs, docs/cluster.md):
#   scripts/slurm-local.sh start    install Debian's slurm-wlm and munge if missing, write a
#                                   one-node slurm.conf, start munged, slurmctld and slurmd, and
#                                   wait until the node is idle
#   scripts/slurm-local.sh stop     stop the three daemons
#   scripts/slurm-local.sh status   sinfo and the daemons' pids
# Runs as root (or with sudo). Every file it writes is under /etc/slurm, /etc/munge,
# /var/spool/slurm-sxplan and /var/log/slurm-sxplan. On failure it prints the daemons' logs and
# exits non-zero, so a caller can show the exact reason.
set -euo pipefail

SPOOL=/var/spool/slurm-sxplan
LOGS=/var/log/slurm-sxplan
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
run() { "${sudo_cmd[@]}" "$@"; }

show_logs() {
  for f in "$LOGS"/slurmctld.log "$LOGS"/slurmd.log /var/log/munge/munged.log; do
    [ -f "$f" ] && { echo "--- last lines of $f"; tail -n 25 "$f"; }
  done
  return 0
}

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
     command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  echo "slurm-local: installing slurm-wlm and munge with apt-get"
  run apt-get update -qq
  DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq slurm-wlm munge >/dev/null
}

start_munge() {
  if pgrep -x munged >/dev/null; then return 0; fi
  run mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    run dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  run chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
  run chmod 0700 /etc/munge
  run chmod 0400 /etc/munge/munge.key
  run runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do
    munge -n </dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "slurm-local: munged does not answer"
  return 1
}

write_conf() {
  local host node
  host=$(hostname -s)
  # the node's own description (CPUs, sockets, cores, memory) as slurmd measures it
  node=$(slurmd -C | head -n 1 | sed "s/^NodeName=[^ ]*/NodeName=$host/")
  run mkdir -p /etc/slurm "$SPOOL/ctld" "$SPOOL/d" "$LOGS"
  run tee /etc/slurm/slurm.conf >/dev/null <<EOF
# written by sxplan scripts/slurm-local.sh: one node on localhost, for tests
ClusterName=sxplan-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=$SPOOL/slurmctld.pid
SlurmdPidFile=$SPOOL/slurmd.pid
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  install
  start_munge
  write_conf
  pgrep -x slurmctld >/dev/null || run slurmctld
  pgrep -x slurmd >/dev/null || run slurmd
  for _ in $(seq 100); do
    if sinfo -h -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then
      echo "slurm-local: up ($(sinfo -h -o '%N %c CPUs %T'), $(sinfo -V))"
      return 0
    fi
    sleep 0.2
  done
  echo "slurm-local: the node did not become idle in 20 s"
  sinfo 2>&1 || true
  show_logs
  return 1
}

stop() {
  for d in slurmd slurmctld munged; do
    run pkill -x "$d" 2>/dev/null || true
  done
}

case "${1:-}" in
  start) start || { show_logs; exit 1; } ;;
  stop) stop ;;
  status) sinfo 2>&1 || true; pgrep -a -x 'slurmctld|slurmd|munged' || true ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
