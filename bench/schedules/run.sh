#!/usr/bin/env bash
# bench/schedules: N Nautobot schedules due every minute (`* * * * *`, Kubernetes queue, active)
# in a throwaway PostgreSQL holding Nautobot's tables (tests/support/nautobot_schema.sql), fired by
# kjq's schedule runner for MINUTES minute boundaries (bench/schedule_load.cpp prints the figures).
# Usage: bench/schedules/run.sh BUILD_DIR [N] [MINUTES]   (BUILD_DIR: a build with schedule_load;
#        CONNECTIONS in the environment: claims side by side, default 2 as in kjq serve)
set -euo pipefail
BUILD=${1:?build dir}; N=${2:-10000}; MINUTES=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kjq-schedules-bench.XXXXXX")
# shellcheck source=../lib/throwaway_postgres.sh
. "$ROOT/bench/lib/throwaway_postgres.sh"
cleanup() {
  stop_throwaway_postgres "$WORK"
  rm -rf "$WORK"
}
trap cleanup EXIT
# fsync on (PostgreSQL's default): each claim transaction's commit is durable, as in production.
start_throwaway_postgres "$WORK" "$ROOT"
"${PSQL[@]}" -d nautobot <<SQL
INSERT INTO extras_jobqueue (id, created, last_updated, _custom_field_data, name, description, queue_type)
  VALUES ('11111111-1111-4111-8111-111111111111', now(), now(), '{}', 'bench', '', 'kubernetes');
INSERT INTO users_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
  date_joined, config_data) VALUES ('22222222-2222-4222-8222-222222222222', '!', false, 'bench', '', '', '', false,
  true, now(), '{}');
INSERT INTO extras_job (id, created, last_updated, _custom_field_data, module_name, job_class_name, grouping, name,
  description, installed, enabled, is_job_hook_receiver, is_job_button_receiver, has_sensitive_variables,
  is_singleton, console_log_default, hidden, dryrun_default, read_only, soft_time_limit, time_limit, supports_dryrun,
  default_job_queue_id, grouping_override, name_override, console_log_default_override, description_override,
  dryrun_default_override, hidden_override, soft_time_limit_override, time_limit_override,
  has_sensitive_variables_override, job_queues_override, default_job_queue_override, is_singleton_override)
  VALUES ('33333333-3333-4333-8333-333333333333', now(), now(), '{}', 'bench_jobs', 'BenchJob', 'Bench', 'Bench',
  '', true, true, false, false, false, false, false, false, false, false, 0, 0, false,
  '11111111-1111-4111-8111-111111111111', false, false, false, false, false, false, false, false, false, false,
  false, false);
INSERT INTO extras_scheduledjob (id, name, task, interval, args, kwargs, one_off, start_time, enabled,
  total_run_count, date_changed, description, user_id, job_model_id, crontab, celery_kwargs, time_zone,
  job_queue_id, state, headers)
  SELECT gen_random_uuid(), 'every minute ' || g, 'bench_jobs.BenchJob', 'custom', '[]', '{"device": "rtr1"}', false,
    now() - interval '1 day', true, 0, now(), '', '22222222-2222-4222-8222-222222222222',
    '33333333-3333-4333-8333-333333333333', '* * * * *', '{"queue": "bench"}', 'Europe/Berlin',
    '11111111-1111-4111-8111-111111111111', 'active', '{}'
  FROM generate_series(1, $N) g;
UPDATE extras_scheduledjob SET last_run_at = date_trunc('minute', now());
SQL
echo "bench/schedules: $N schedules every minute, $MINUTES minute boundaries, ${CONNECTIONS:-2} claim connections, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), $(nproc) cores"
"$BUILD/bench/schedule_load" "postgresql://kjq@127.0.0.1:$PGPORT/nautobot" "$N" "$MINUTES" "${CONNECTIONS:-2}" 2>&1 |
  grep -v "schedules: fired"
"${PSQL[@]}" -d nautobot -At -c "SELECT 'JobResults: ' || count(*) || ', distinct (schedule, due): ' ||
  count(DISTINCT (scheduled_job_id, id)) FROM extras_jobresult"
