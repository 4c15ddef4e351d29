#!/usr/bin/env bash
# Parley's real engines on this machine, without Docker: Redis 7 (Debian package), Apache Cassandra 5.0
# (Maven Central jars, JDK 17) and Apache Kafka 4 in KRaft mode (Maven Central jars).
#
#   engines.sh up     [redis|cassandra|kafka ...]   install what is missing, start, wait until ready
#   engines.sh down   [redis|cassandra|kafka ...]   stop what `up` started (by pidfile), wipe its run dir
#   engines.sh status [redis|cassandra|kafka ...]   state, pid and port of each
#   engines.sh smoke  [redis|cassandra|kafka ...]   Redis PING, a CQL query, Kafka produce/consume/commit in a group
#
# No name means all three. See docs/engines-setup.md for ports, cache, timings and findings.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO/scripts/engines"
CACHE="${PARLEY_ENGINES_CACHE:-${HOME:-/root}/.cache/parley-engines}"
RUN="${PARLEY_ENGINES_RUN:-/tmp/parley-engines}"

REDIS_PORT="${PARLEY_REDIS_PORT:-16379}"
CASSANDRA_PORT="${PARLEY_CASSANDRA_PORT:-19042}"
CASSANDRA_STORAGE_PORT="${PARLEY_CASSANDRA_STORAGE_PORT:-17000}"
# Timer slack of Cassandra's threads in ns (Linux's default is 50000; 0 leaves it). Its request
# pools park idle workers for 10 us at a time between requests; with 250 us slack those wake-ups
# cost a fifth as much CPU on shared cores at the same latency (docs/cassandra.md, "Timer slack").
CASSANDRA_TIMER_SLACK_NS="${PARLEY_CASSANDRA_TIMER_SLACK_NS:-250000}"
KAFKA_PORT="${PARLEY_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${PARLEY_KAFKA_CONTROLLER_PORT:-19093}"

CASSANDRA_VERSION="${PARLEY_CASSANDRA_VERSION:-5.0.9}"
KAFKA_VERSION="${PARLEY_KAFKA_VERSION:-4.4.0}"
# log4j 2 binding for Kafka's slf4j logging (the version of log4j-core that kafka-server pulls in).
KAFKA_LOG4J_VERSION="${PARLEY_KAFKA_LOG4J_VERSION:-2.25.5}"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

REDIS_DEADLINE="${PARLEY_REDIS_DEADLINE:-30}"
CASSANDRA_DEADLINE="${PARLEY_CASSANDRA_DEADLINE:-180}"
KAFKA_DEADLINE="${PARLEY_KAFKA_DEADLINE:-120}"
STOP_DEADLINE="${PARLEY_ENGINES_STOP_DEADLINE:-30}"

ALL_ENGINES=(redis cassandra kafka)
NODE="$REPO/node_modules/.bin/node"
# kafkajs 2.2.4 passes a negative delay to setTimeout, which Node 24 reports (kafkajs issue #1751; harmless).
NODE_FLAGS=(--disable-warning=TimeoutNegativeWarning)

export DEBIAN_FRONTEND=noninteractive

log() { printf '%s\n' "$*"; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
now() { date +%s; }

# ---------------------------------------------------------------------------------------------- helpers

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_of ENGINE: the pid in ENGINE's pidfile when that process is alive and is really ours.
pid_of() {
  local engine=$1 pidfile pid marker
  pidfile="$RUN/$engine/$engine.pid"
  [[ -s $pidfile ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n $pid ]] && alive "$pid" || return 1
  case $engine in
  redis) marker="redis-server" ;;
  cassandra) marker="org.apache.cassandra.service.CassandraDaemon" ;;
  kafka) marker="kafka.Kafka" ;;
  esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$marker" || return 1
  printf '%s\n' "$pid"
}

port_of() {
  case $1 in
  redis) echo "$REDIS_PORT" ;;
  cassandra) echo "$CASSANDRA_PORT" ;;
  kafka) echo "$KAFKA_PORT" ;;
  esac
}

tail_log() {
  local file=$1
  if [[ -f $file ]]; then
    log "---- last 60 lines of $file ----"
    tail -n 60 "$file" || true
    log "---- end of $file ----"
  else
    log "(no log at $file)"
  fi
}

# alive PID: the process exists and is not a zombie (a daemon's parent here is an init that reaps late).
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)"
  [[ $state != Z ]]
}

# stop_pid PID NAME: SIGTERM, wait up to STOP_DEADLINE seconds, then SIGKILL.
stop_pid() {
  local pid=$1 name=$2 start waited
  kill -TERM "$pid" 2>/dev/null || return 0
  start=$(now)
  while alive "$pid"; do
    waited=$(($(now) - start))
    if ((waited >= STOP_DEADLINE)); then
      log "$name: still running after ${STOP_DEADLINE}s, sending SIGKILL to $pid"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.3
  done
}

# start_detached PIDFILE LOGFILE CMD...: runs CMD in its own session, stdio to LOGFILE, pid into PIDFILE.
start_detached() {
  local pidfile=$1 logfile=$2
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$ and $0 belong to the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >"$logfile" 2>&1 </dev/null &
  for _ in $(seq 1 50); do
    [[ -s $pidfile ]] && return 0
    sleep 0.1
  done
  die "process did not write $pidfile"
}

# with_progress LABEL LOGFILE SIZE_DIR CMD...: runs CMD (output to LOGFILE), printing a progress line
# every 5 s with the elapsed time and the size of SIZE_DIR; fails with the tail of LOGFILE.
with_progress() {
  local label=$1 logfile=$2 sizedir=$3
  shift 3
  local start pid rc=0 last=0 elapsed size
  start=$(now)
  "$@" >"$logfile" 2>&1 </dev/null &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    elapsed=$(($(now) - start))
    if ((elapsed - last >= 5)); then
      last=$elapsed
      size="$(du -sm "$sizedir" 2>/dev/null | cut -f1 || true)"
      log "$label: ${elapsed}s${size:+, ${size} MB so far}"
    fi
  done
  wait "$pid" || rc=$?
  if ((rc != 0)); then
    log "$label failed (exit $rc)"
    tail_log "$logfile"
    return "$rc"
  fi
  log "$label: done in $(($(now) - start))s"
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* yourself"
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || die "not root and no sudo: install $* yourself"
    sudo=(sudo -n)
  fi
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    "${sudo[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  # RUNLEVEL=1: do not start the package's own service (it would listen on the default port).
  "${sudo[@]}" env RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    die "apt-get install $* failed"
}

# ---------------------------------------------------------------------------------------------- java 17

JAVA=""
java_major() { "$1" -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n1; }

# Cassandra 5.0 runs on JDK 17 only; Kafka runs on it too. Never pick another JDK (a JDK 25 may be
# installed beside 17): the first candidate that reports major version 17 wins.
find_java17() {
  [[ -n $JAVA ]] && return 0
  local candidate
  for candidate in ${PARLEY_JAVA17:+"$PARLEY_JAVA17"} ${JAVA_HOME:+"$JAVA_HOME/bin/java"} \
    /usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/*-17*/bin/java "$(command -v java || true)"; do
    [[ -n $candidate && -x $candidate ]] || continue
    if [[ $(java_major "$candidate") == 17 ]]; then
      JAVA="$(readlink -f "$candidate")"
      return 0
    fi
  done
  return 1
}

ensure_java17() {
  find_java17 && return 0
  log "no JDK 17 found: installing openjdk-17-jdk-headless"
  apt_install openjdk-17-jdk-headless
  find_java17 || die "JDK 17 still not found (set PARLEY_JAVA17 to its java binary)"
}

ensure_maven() {
  command -v mvn >/dev/null && return 0
  log "mvn not found: installing maven"
  apt_install maven
}

ensure_node_modules() {
  if [[ -x $NODE && -d $REPO/node_modules/kafkajs && -d $REPO/node_modules/cassandra-driver ]]; then
    return 0
  fi
  log "node_modules incomplete: npm ci"
  (cd "$REPO" && npm ci --no-audit --no-fund) || die "npm ci failed"
}

# fetch_jars NAME DIR POM_DEPENDENCIES_XML: a throwaway pom in DIR, `mvn dependency:copy-dependencies`
# into DIR/lib with a Maven repository of its own (so two fetches can run at once), then DIR/.complete.
fetch_jars() {
  local name=$1 dir=$2 deps=$3
  mkdir -p "$dir"
  exec 9>"$dir.lock"
  flock 9
  if [[ -f $dir/.complete ]]; then
    exec 9>&-
    return 0
  fi
  log "downloading $name jars from Maven Central into $dir (first run only)"
  cat >"$dir/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Throwaway pom written by scripts/engines/engines.sh: only used to download $name's jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>parley.engines</groupId>
  <artifactId>$name-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
$deps
  </dependencies>
</project>
EOF
  rm -rf "${dir:?}/lib" "${dir:?}/lib.tmp"
  JAVA_HOME="$(dirname "$(dirname "$JAVA")")" with_progress "downloading $name jars" "$dir/mvn.log" "$dir" \
    mvn -B -q -f "$dir/pom.xml" -Dmaven.repo.local="$dir/m2" \
    "$DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$dir/lib.tmp" || {
    exec 9>&-
    return 1
  }
  mv "$dir/lib.tmp" "$dir/lib"
  rm -rf "$dir/m2"
  log "$name: $(find "$dir/lib" -name '*.jar' | wc -l) jars, $(du -sm "$dir/lib" | cut -f1) MB in $dir/lib"
  touch "$dir/.complete"
  exec 9>&-
}

# ---------------------------------------------------------------------------------------------- redis

REDIS_SERVER=""
install_redis() {
  REDIS_SERVER="$(command -v redis-server || true)"
  if [[ -z $REDIS_SERVER ]] || ! command -v redis-cli >/dev/null; then
    apt_install redis-server redis-tools
    REDIS_SERVER="$(command -v redis-server)" || die "redis-server not found after install"
  fi
  local version
  version="$("$REDIS_SERVER" --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')"
  [[ ${version%%.*} -ge 7 ]] || die "redis-server $version is older than 7"
  log "redis-server $version ($REDIS_SERVER)"
}

up_redis() {
  local dir="$RUN/redis" pid
  if pid="$(pid_of redis)"; then
    log "already up (pid $pid) on 127.0.0.1:$REDIS_PORT"
  else
    install_redis
    port_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by another process (set PARLEY_REDIS_PORT)"
    mkdir -p "$dir"
    rm -f "$dir/redis.pid"
    log "starting on 127.0.0.1:$REDIS_PORT (persistence off)"
    if ! "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >"$dir/redis-start.log" 2>&1 </dev/null; then
      log "redis-server failed to start"
      tail_log "$dir/redis-start.log"
      tail_log "$dir/redis.log"
      return 1
    fi
  fi
  local start elapsed
  start=$(now)
  while true; do
    if [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; then
      pid="$(pid_of redis || echo '?')"
      log "ready (pid $pid) on 127.0.0.1:$REDIS_PORT after $(($(now) - start))s"
      return 0
    fi
    elapsed=$(($(now) - start))
    if ((elapsed >= REDIS_DEADLINE)) || { ((elapsed >= 2)) && ! pid_of redis >/dev/null; }; then
      if pid_of redis >/dev/null; then log "not ready after ${REDIS_DEADLINE}s"; else log "redis-server exited"; fi
      tail_log "$dir/redis-start.log"
      tail_log "$dir/redis.log"
      kill_engine redis
      return 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------- cassandra

CASSANDRA_HOME="$CACHE/cassandra-$CASSANDRA_VERSION"

install_cassandra() {
  ensure_java17
  [[ -f $CASSANDRA_HOME/.complete ]] && return 0
  ensure_maven
  fetch_jars cassandra "$CASSANDRA_HOME" "    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>$CASSANDRA_VERSION</version>
    </dependency>"
}

write_cassandra_config() {
  local dir=$1
  cat >"$dir/cassandra.yaml" <<EOF
# Single-node test Cassandra written by scripts/engines/engines.sh (unknown keys are rejected at start).
cluster_name: parley-engines
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: $CASSANDRA_STORAGE_PORT
native_transport_port: $CASSANDRA_PORT
start_native_transport: true
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$CASSANDRA_STORAGE_PORT"
data_file_directories:
  - $dir/data
commitlog_directory: $dir/commitlog
saved_caches_directory: $dir/saved_caches
hints_directory: $dir/hints
cdc_raw_directory: $dir/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
auto_snapshot: false
# A brand-new cluster with no 4.x nodes: use 5.0's own formats and features.
storage_compatibility_mode: NONE
concurrent_compactors: 1
EOF
  cat >"$dir/logback.xml" <<'EOF'
<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
EOF
}

up_cassandra() {
  local dir="$RUN/cassandra" pid
  if pid="$(pid_of cassandra)"; then
    log "already up (pid $pid) on 127.0.0.1:$CASSANDRA_PORT"
  else
    install_cassandra
    port_open "$CASSANDRA_PORT" && die "port $CASSANDRA_PORT is taken by another process (set PARLEY_CASSANDRA_PORT)"
    port_open "$CASSANDRA_STORAGE_PORT" &&
      die "port $CASSANDRA_STORAGE_PORT is taken by another process (set PARLEY_CASSANDRA_STORAGE_PORT)"
    mkdir -p "$dir"/{data,commitlog,saved_caches,hints,cdc_raw,triggers}
    write_cassandra_config "$dir"
    local jamm
    jamm="$(find "$CASSANDRA_HOME/lib" -name 'jamm-*.jar' | head -n1)"
    [[ -n $jamm ]] || die "jamm jar missing from $CASSANDRA_HOME/lib (delete that folder to download again)"
    log "starting Cassandra $CASSANDRA_VERSION on 127.0.0.1:$CASSANDRA_PORT (storage $CASSANDRA_STORAGE_PORT, JMX off, timer slack ${CASSANDRA_TIMER_SLACK_NS} ns) with $JAVA"
    # Cassandra calls mlockall(MCL_CURRENT) at start: as root (CAP_IPC_LOCK) that succeeds, faults in and
    # pins the whole committed heap (+500 MB RSS, +3 s start). Without the capability the call fails on
    # RLIMIT_MEMLOCK and Cassandra logs a warning and goes on: drop it from the JVM's bounding set.
    local nolock=() extra=()
    read -r -a extra <<<"${PARLEY_CASSANDRA_JAVA_OPTS:-}"
    if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
      nolock=(setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock)
    fi
    # The JVM's threads inherit the slack of the shell that execs it. Writing it needs Linux 4.6+
    # (and CAP_SYS_NICE on some older kernels); without it Cassandra runs at the default slack.
    local slack=()
    if [[ $CASSANDRA_TIMER_SLACK_NS != 0 ]]; then
      # shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
      slack=(bash -c 'echo "$0" 2>/dev/null >/proc/self/timerslack_ns ||
        echo "timer slack not set (needs Linux 4.6+, on some kernels CAP_SYS_NICE); running with the default" >&2
        exec "$@"' "$CASSANDRA_TIMER_SLACK_NS")
    fi
    # Module flags: Cassandra's conf/jvm17-server.options (JPMS section) plus its Netty options.
    start_detached "$dir/cassandra.pid" "$dir/cassandra.log" "${nolock[@]}" "${slack[@]}" \
      "$JAVA" -Xms512m -Xmx1g -Xss256k -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 \
      -XX:+ExitOnOutOfMemoryError -XX:+PerfDisableSharedMem \
      -javaagent:"$jamm" \
      -Djdk.attach.allowAttachSelf=true \
      --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
      --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED \
      --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED \
      --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED \
      --add-exports java.sql/java.sql=ALL-UNNAMED \
      --add-exports java.base/java.lang.ref=ALL-UNNAMED \
      --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED \
      --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED \
      --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED \
      --add-opens java.base/java.lang.module=ALL-UNNAMED \
      --add-opens java.base/jdk.internal.loader=ALL-UNNAMED \
      --add-opens java.base/jdk.internal.ref=ALL-UNNAMED \
      --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED \
      --add-opens java.base/jdk.internal.math=ALL-UNNAMED \
      --add-opens java.base/jdk.internal.module=ALL-UNNAMED \
      --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED \
      --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED \
      --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
      --add-opens java.base/java.io=ALL-UNNAMED \
      --add-opens java.base/java.lang.reflect=ALL-UNNAMED \
      --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED \
      --add-opens java.base/java.lang=ALL-UNNAMED \
      --add-opens java.base/java.util=ALL-UNNAMED \
      -Dio.netty.tryReflectionSetAccessible=true \
      -Dio.netty.allocator.useCacheForAllThreads=true -Dio.netty.allocator.maxOrder=11 \
      -Djava.net.preferIPv4Stack=true \
      -Dcassandra.config="file://$dir/cassandra.yaml" \
      -Dlogback.configurationFile="$dir/logback.xml" \
      -Dcassandra.logdir="$dir" -Dcassandra.storagedir="$dir" -Dcassandra.triggers_dir="$dir/triggers" \
      -Dcassandra-foreground=true \
      -Dcassandra.skip_wait_for_gossip_to_settle=0 \
      -Dcassandra.superuser_setup_delay_ms=0 \
      "${extra[@]}" \
      -cp "$CASSANDRA_HOME/lib/*" org.apache.cassandra.service.CassandraDaemon
  fi
  pid="$(pid_of cassandra)" || {
    log "exited at once"
    tail_log "$dir/cassandra.log"
    return 1
  }
  if ! "$NODE" "${NODE_FLAGS[@]}" "$HERE/probe.ts" cassandra "$CASSANDRA_PORT" "$CASSANDRA_DEADLINE" "$pid"; then
    tail_log "$dir/cassandra.log"
    kill_engine cassandra
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------- kafka

KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"

install_kafka() {
  ensure_java17
  [[ -f $KAFKA_HOME/.complete ]] && return 0
  ensure_maven
  # kafka_2.13 brings the broker (kafka-server, raft, metadata, storage, group coordinator, log4j-core);
  # it lacks an slf4j binding, without which the broker logs nothing: add log4j's.
  fetch_jars kafka "$KAFKA_HOME" "    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$KAFKA_LOG4J_VERSION</version>
    </dependency>"
}

write_kafka_config() {
  local dir=$1
  cat >"$dir/server.properties" <<EOF
# Single-node KRaft Kafka written by scripts/engines/engines.sh.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
EOF
  cat >"$dir/log4j2.properties" <<'EOF'
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
EOF
  # The command-line tools print their answers on stdout: their own logging goes to stderr.
  cat >"$dir/log4j2-tools.properties" <<'EOF'
status = warn
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
EOF
}

kafka_tool() {
  "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$RUN/kafka/log4j2-tools.properties" -cp "$KAFKA_HOME/lib/*" "$@"
}

up_kafka() {
  local dir="$RUN/kafka" pid
  if pid="$(pid_of kafka)"; then
    log "already up (pid $pid) on 127.0.0.1:$KAFKA_PORT"
  else
    install_kafka
    port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process (set PARLEY_KAFKA_PORT)"
    port_open "$KAFKA_CONTROLLER_PORT" &&
      die "port $KAFKA_CONTROLLER_PORT is taken by another process (set PARLEY_KAFKA_CONTROLLER_PORT)"
    mkdir -p "$dir/data"
    write_kafka_config "$dir"
    if [[ ! -f $dir/data/meta.properties ]]; then
      local cluster_id start
      start=$(now)
      log "formatting storage (kafka.tools.StorageTool)"
      cluster_id="$(kafka_tool kafka.tools.StorageTool random-uuid 2>>"$dir/format.log" | tail -n1)"
      [[ $cluster_id =~ ^[A-Za-z0-9_-]{22}$ ]] || {
        log "random-uuid printed '$cluster_id'"
        tail_log "$dir/format.log"
        return 1
      }
      kafka_tool kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$dir/server.properties" \
        >>"$dir/format.log" 2>&1 || {
        log "format failed"
        tail_log "$dir/format.log"
        return 1
      }
      log "formatted cluster $cluster_id in $(($(now) - start))s"
    fi
    local extra=()
    read -r -a extra <<<"${PARLEY_KAFKA_JAVA_OPTS:-}"
    log "starting Kafka $KAFKA_VERSION (KRaft) on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT) with $JAVA"
    start_detached "$dir/kafka.pid" "$dir/kafka.log" \
      "$JAVA" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -XX:+PerfDisableSharedMem -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir" \
      "${extra[@]}" \
      -cp "$KAFKA_HOME/lib/*" kafka.Kafka "$dir/server.properties"
  fi
  pid="$(pid_of kafka)" || {
    log "exited at once"
    tail_log "$dir/kafka.log"
    return 1
  }
  if ! "$NODE" "${NODE_FLAGS[@]}" "$HERE/probe.ts" kafka "$KAFKA_PORT" "$KAFKA_DEADLINE" "$pid"; then
    tail_log "$dir/kafka.log"
    kill_engine kafka
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------- commands

# kill_engine ENGINE: stops a process that failed to get ready; keeps its run dir (and log) for a look.
kill_engine() {
  local pid
  if pid="$(pid_of "$1")"; then
    log "stopping pid $pid (its files stay in $RUN/$1 until engines:down)"
    stop_pid "$pid" "$1"
  fi
}

stop_engine() {
  local engine=$1 pid start
  if pid="$(pid_of "$engine")"; then
    start=$(now)
    log "$engine: stopping pid $pid"
    stop_pid "$pid" "$engine"
    log "$engine: stopped in $(($(now) - start))s"
  else
    log "$engine: not running"
  fi
  rm -rf "${RUN:?}/$engine"
}

parse_engines() {
  ENGINES=()
  local name known
  if (($# == 0)); then
    ENGINES=("${ALL_ENGINES[@]}")
    return
  fi
  for name in "$@"; do
    known=0
    for e in "${ALL_ENGINES[@]}"; do [[ $name == "$e" ]] && known=1; done
    ((known)) || die "unknown engine '$name' (known: ${ALL_ENGINES[*]})"
    ENGINES+=("$name")
  done
}

prefix() {
  local line
  while IFS= read -r line; do printf '[%s] %s\n' "$1" "$line"; done
}

cmd_up() {
  parse_engines "$@"
  local start e needs_jvm=0
  start=$(now)
  mkdir -p "$RUN" "$CACHE"
  for e in "${ENGINES[@]}"; do [[ $e == redis ]] || needs_jvm=1; done
  # Shared prerequisites first (apt and npm must not run twice at once), then each engine in parallel.
  if ((needs_jvm)); then
    ensure_java17
    ensure_node_modules
    for e in "${ENGINES[@]}"; do
      [[ $e == cassandra && ! -f $CASSANDRA_HOME/.complete ]] && ensure_maven
      [[ $e == kafka && ! -f $KAFKA_HOME/.complete ]] && ensure_maven
    done
  fi
  local -A pids=()
  for e in "${ENGINES[@]}"; do
    (
      set -o pipefail
      "up_$e" 2>&1 | prefix "$e"
    ) &
    pids[$e]=$!
  done
  local failed=()
  for e in "${ENGINES[@]}"; do
    wait "${pids[$e]}" || failed+=("$e")
  done
  if ((${#failed[@]})); then
    log "engines:up FAILED for: ${failed[*]} (after $(($(now) - start))s)"
    exit 1
  fi
  log "engines:up: ${ENGINES[*]} ready in $(($(now) - start))s"
}

cmd_down() {
  parse_engines "$@"
  local e stoppers=()
  # Stop them all at once (Cassandra drains for a few seconds on SIGTERM).
  for e in "${ENGINES[@]}"; do
    stop_engine "$e" &
    stoppers+=("$!")
  done
  for e in "${stoppers[@]}"; do wait "$e" || true; done
  # Wipe the run dir once nothing of ours is left in it.
  if [[ -d $RUN ]] && ! find "$RUN" -mindepth 1 -maxdepth 1 -type d | grep -q .; then
    rm -rf "$RUN"
  fi
}

cmd_status() {
  parse_engines "$@"
  local e pid port state detail
  for e in "${ENGINES[@]}"; do
    port="$(port_of "$e")"
    detail=""
    if pid="$(pid_of "$e")"; then
      if port_open "$port"; then state="up"; else state="starting"; fi
      detail="pid $pid, rss $(awk '/^VmRSS/ {printf "%d MB", $2/1024}' "/proc/$pid/status" 2>/dev/null || echo '?')"
    else
      state="down"
      port_open "$port" && detail="port in use by a process not started by engines:up"
    fi
    printf '%-10s %-9s 127.0.0.1:%-6s %s\n' "$e" "$state" "$port" "$detail"
  done
}

cmd_smoke() {
  parse_engines "$@"
  local e
  for e in "${ENGINES[@]}"; do
    pid_of "$e" >/dev/null || die "$e is not running (npm run engines:up -- $e)"
  done
  for e in "${ENGINES[@]}"; do
    case $e in
    redis)
      local reply
      reply="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping)"
      [[ $reply == PONG ]] || die "redis: PING answered '$reply'"
      log "[redis] PING -> $reply"
      ;;
    cassandra) "$NODE" "${NODE_FLAGS[@]}" "$HERE/smoke.ts" cassandra "$CASSANDRA_PORT" 2>&1 | prefix cassandra ;;
    kafka) "$NODE" "${NODE_FLAGS[@]}" "$HERE/smoke.ts" kafka "$KAFKA_PORT" 2>&1 | prefix kafka ;;
    esac
  done
  log "smoke: ${ENGINES[*]} ok"
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) cmd_status "$@" ;;
  smoke) cmd_smoke "$@" ;;
  *) die "usage: $0 up|down|status|smoke [redis|cassandra|kafka ...]" ;;
  esac
}

main "$@"
