# Memory of a process, read from /proc (footprint.sh, memory-floor.sh).
#   status FIELD PID   a field of /proc/PID/status (kB for the memory ones)
#   mib KB             kB as MiB with one decimal
status() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
