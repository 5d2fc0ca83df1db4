# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 14: the collection against an account-wide WorkSpaces rate limit (a token bucket in the emulator).

    .venv/bin/python -m benchmarks.ratelimit [--size 2000] [--rate 5] [--burst 5] [--modes standard,adaptive]
                                             [--max-attempts 3] [--runs module,role] [--stop-delay 1] [--json FILE]
                                             [--write-docs] [--from-json FILE]

Seeds ``--size`` AUTO_STOP, AVAILABLE, DISCONNECTED desktops (all tagged) in us-east-1, sets the emulator's
``rate_limit`` to ``--rate`` calls/s with ``--burst``, and runs

* ``module``: ``fleetops.workspaces.workspaces_stop`` through ansible-playbook on all the ids (one task);
* ``role``: ``playbooks/stop_workspaces.yml`` selecting the desktops by tag (``workspaces_stop_tags``),

each under botocore's retry mode ``standard`` and ``adaptive`` (``AWS_RETRY_MODE``, ``AWS_MAX_ATTEMPTS``), on top of the
collection's own ``AWSRetry``. Per run it reports desktops lost (not STOPPED at the end), desktops stopped twice
(``StopWorkspaces`` that reached the service more than once for an id), accepted calls/s against the limit (over the
whole run, and from the first to the last refused call, when the client was pushing against the limit), refused
(throttled) calls, the largest bursts over the limit, and the wall time. Nothing is asserted; it prints a table.
``--write-docs`` saves the results to ``benchmarks/results/ratelimit.json`` and writes the section "Under an account rate
limit" to ``benchmarks/ratelimit.md`` and into ``docs/performance.md`` (``make bench`` includes the same file when it
regenerates that page); ``--from-json`` rewrites them from saved results without running anything.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

from benchmarks import scenarios as sc
from benchmarks.run import Emulator
from emulator.ratelimit import RATE_LIMIT_FAULT, stats

REGION = 'us-east-1'
RESULTS_JSON = os.path.join(sc.ROOT, 'benchmarks', 'results', 'ratelimit.json')
SECTION_MD = os.path.join(sc.ROOT, 'benchmarks', 'ratelimit.md')
PERFORMANCE_MD = os.path.join(sc.ROOT, 'docs', 'performance.md')
SECTION_START = '<!-- rate-limit section: written by benchmarks/ratelimit.py --write-docs -->'
SECTION_END = '<!-- end of the rate-limit section -->'
TAG = {'Schedule': 'rate-limit-bench'}
TIMEOUT = 900

MODULE_PLAYBOOK = """---
- name: Rate-limit benchmark, workspaces_stop on every id
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Stop them
      fleetops.workspaces.workspaces_stop:
        region: %s
        workspace_ids: "{{ bench_ids }}"
""" % REGION


def spec(size):
    return {'seed': 14, 'regions': {REGION: {'directories': [{
        'directory_id': 'd-1400000001', 'count': size, 'running_modes': 'AUTO_STOP', 'states': 'AVAILABLE',
        'connection_states': 'DISCONNECTED', 'tags': TAG,
    }]}}}


def write(path, text):
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)
    return path


def command(run, work, ids):
    playbook_bin = os.path.join(sc.VENV_BIN, 'ansible-playbook')
    if run == 'module':
        playbook = write(os.path.join(work, 'module.yml'), MODULE_PLAYBOOK)
        extra = write(os.path.join(work, 'module.json'), json.dumps({'bench_ids': ids}))
        return [playbook_bin, playbook, '-e', '@' + extra]
    extra = write(os.path.join(work, 'role.json'), json.dumps({
        'workspaces_stop_regions': [REGION], 'workspaces_stop_tags': TAG, 'workspaces_stop_max_count': len(ids) + 1,
    }))
    return [playbook_bin, os.path.join(sc.ROOT, 'playbooks', 'stop_workspaces.yml'), '-e', '@' + extra]


def stopped_twice(calls):
    """Ids in more than one StopWorkspaces call that reached the service (not refused by a fault)."""
    sent = Counter(
        request['WorkspaceId']
        for call in calls if call['operation'] == 'StopWorkspaces' and call.get('fault') is None
        for request in (call['params'] or {}).get('StopWorkspaceRequests', [])
    )
    return sorted(i for i, n in sent.items() if n > 1)


def contention_rate(calls):
    """Accepted calls/s from the first to the last call refused by the rate limit (None without two refusals)."""
    refused = [c['time'] for c in calls if c.get('fault') == RATE_LIMIT_FAULT]
    if len(refused) < 2 or refused[-1] <= refused[0]:
        return None
    accepted = sum(1 for c in calls if c.get('fault') != RATE_LIMIT_FAULT and refused[0] <= c['time'] <= refused[-1])
    return accepted / (refused[-1] - refused[0])


def measure(emulator, run, mode, args, work):
    client = emulator.client
    client.reset()
    ids = [w['workspace_id'] for w in client.seed(spec(args.size))['workspaces']]
    client.set_faults(rate_limit={'calls_per_second': args.rate, 'burst': args.burst}, stop_delay=args.stop_delay)
    client.reset_calls()
    env = sc.ansible_env(work, emulator.url)
    env.update({'AWS_RETRY_MODE': mode, 'AWS_MAX_ATTEMPTS': str(args.max_attempts)})
    argv = command(run, work, ids)
    log_path = os.path.join(work, '%s-%s.log' % (run, mode))
    started = time.monotonic()
    with open(log_path, 'w', encoding='utf-8') as log:
        proc = subprocess.run(argv, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT, timeout=TIMEOUT, check=False)
    wall = time.monotonic() - started
    calls = client.calls()
    truth = {w['workspace_id']: w['state'] for w in client.workspaces(REGION)}
    (region,) = stats(calls, args.rate)['regions']
    contention = contention_rate(calls)
    result = {
        'run': run, 'retry_mode': mode, 'max_attempts': args.max_attempts, 'rc': proc.returncode, 'wall_s': round(wall, 1),
        'desktops': len(ids), 'lost': sum(1 for i in ids if truth.get(i) != 'STOPPED'), 'stopped_twice': len(stopped_twice(calls)),
        'attempted': region['attempted'], 'accepted': region['accepted'], 'throttled': region['rate_limited'],
        'accepted_per_second': region['accepted_per_second'],
        'contention_per_second': None if contention is None else round(contention, 2),
        'max_over_limit_in_a_second': region['max_over_limit_in_a_second'],
        'max_rate_limited_in_a_second': region['max_rate_limited_in_a_second'],
        'longest_rate_limited_run': region['longest_rate_limited_run'],
        'calls_ok': dict(Counter(c['operation'] for c in calls if c.get('fault') is None)),
        'calls_refused': dict(Counter(c['operation'] for c in calls if c.get('fault') == RATE_LIMIT_FAULT)),
        'other_errors': dict(Counter(c['outcome'] for c in calls if c['outcome'] != 'ok' and c.get('fault') != RATE_LIMIT_FAULT)),
    }
    if proc.returncode != 0:
        with open(log_path, encoding='utf-8', errors='replace') as handle:
            result['log_tail'] = handle.read()[-3000:]
    return result


def table(results, rate):
    head = ('run', 'retry mode', 'rc', 'lost', 'stopped twice', 'accepted/s (whole run)', 'accepted/s (under contention)',
            'of the limit', 'throttled', 'max over limit in 1 s', 'longest refused run', 'wall s')
    rows = []
    for r in results:
        busy = r['contention_per_second']
        rows.append((r['run'], r['retry_mode'], str(r['rc']), str(r['lost']), str(r['stopped_twice']), '%.2f' % r['accepted_per_second'],
                     '-' if busy is None else '%.2f' % busy, '-' if busy is None else '%d%%' % round(100 * busy / rate),
                     '%d of %d' % (r['throttled'], r['attempted']), str(r['max_over_limit_in_a_second']),
                     str(r['longest_rate_limited_run']), '%.1f' % r['wall_s']))
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines)


ANALYSIS = """\
**Reading.** No desktop was lost and none was stopped twice in any run: a refused `StopWorkspaces` changed nothing and
was sent again (by botocore, then by the collection's `AWSRetry`), and `StopWorkspaces` is never sent concurrently.
Every run kept the accepted rate above 80 % of the limit, so the collection needs no code change to meet that goal.

**`standard` against `adaptive`.** With `standard` the collection sends its reads (4 in flight, `concurrent_reads`) as
fast as it can and lets the service refuse the excess: over 40 % of its calls were throttled, and up to 10 to 12 calls
in one second went over the limit. `adaptive` adds botocore's client-side rate limiter (a token bucket of its own that
shrinks when it meets `ThrottlingException` and grows back): 6.6 to 8.1 times fewer throttled calls, at most 4 calls a
second over the limit, and about the same throughput. In both modes the collection takes nearly the whole quota while
it runs (that is what 80 % of the limit means): other tools sharing the account and region are throttled meanwhile.

**Recommended setting.** Run the collection with `AWS_RETRY_MODE=adaptive` (and `AWS_MAX_ATTEMPTS=10` when the account
is busy), or give the modules `aws_config: {retries: {mode: adaptive, max_attempts: 10}}` (amazon.aws merges it into the
botocore configuration; for example through `module_defaults` for `group/fleetops.workspaces.workspaces`). In AWX, set
the two variables in the job's environment (a custom credential type that injects them, or the `AWX_TASK_ENV` setting).
`concurrent_reads: 1` (role: `workspaces_stop_concurrent_reads: 1`) lowers the peak further: reads are then sent one at
a time. None of these is a hard cap: botocore has no fixed client rate, and adaptive mode learns the rate from the
throttling it meets. Leaving a fixed share of the quota to other tools would need a code change: a shared token bucket
(an option such as `max_calls_per_second`) in `plugins/module_utils/client.py`, taken before every `aws_retry=True`
call, reads' threads included.
"""


def section(data):
    """The markdown section (benchmarks/ratelimit.md) for saved results."""
    args, results = data['args'], data['results']
    lines = [
        '## Under an account rate limit',
        '',
        'Issue 14: WorkSpaces throttles per account and region, and that quota is shared with every other tool. '
        '`.venv/bin/python -m benchmarks.ratelimit` sets the emulator\'s token bucket (`rate_limit`) to %g calls/s with a '
        'burst of %d, shared by every WorkSpaces and tagging call, seeds %d AUTO_STOP, AVAILABLE, disconnected desktops '
        '(one region, all tagged), and stops all of them with the module (`workspaces_stop` on all the ids) and with the '
        'role (`playbooks/stop_workspaces.yml` by tag, skip_connected on), under botocore\'s retry modes `standard` and '
        '`adaptive` (`AWS_RETRY_MODE`, `AWS_MAX_ATTEMPTS=%d`) on top of the collection\'s own `AWSRetry` (jittered backoff, '
        '`ThrottlingException` included). STOPPING lasts %g s; every call has %g ms of added latency.'
        % (args['rate'], args['burst'], args['size'], args['max_attempts'], args['stop_delay'], args['latency_ms']),
        '',
        table(results, args['rate']),
        '',
        '- *lost*: desktops not STOPPED at the end; *stopped twice*: ids sent in more than one `StopWorkspaces` that reached '
        'the service.',
        '- *accepted/s (whole run)*: calls the bucket let through / seconds from the first to the last call; *under '
        'contention*: the same from the first to the last refused call, when the client was pushing against the limit; '
        '*of the limit*: that rate against %g calls/s (goal: 80 %% or more).' % args['rate'],
        '- *throttled*: calls refused by the bucket, of all calls sent; *max over limit in 1 s*: the most calls sent in one '
        'second beyond the limit; *longest refused run*: consecutive refused calls.',
        '- Measured %s on the 2-core machine shared with other work; the figures come from the emulator\'s call log '
        '(`GET /_emulator/rate`) and are saved in `benchmarks/results/ratelimit.json`.' % data.get('measured_at', 'once'),
        '',
        ANALYSIS.strip(),
    ]
    return '\n'.join(lines) + '\n'


def write_docs(data):
    text = section(data)
    write(SECTION_MD, text)
    try:
        with open(PERFORMANCE_MD, encoding='utf-8') as handle:
            page = handle.read()
    except OSError:
        page = '# Performance\n'
    block = '%s\n%s%s\n\n' % (SECTION_START, text, SECTION_END)
    heading = text.split('\n', 1)[0]
    if SECTION_START not in page and heading in page:
        # As `make bench` writes it (benchmarks/report.py includes benchmarks/ratelimit.md without the markers).
        before, after = page.split(heading, 1)
        rest = after.split('\n## ', 1)
        page = before + SECTION_START + '\n' + SECTION_END + ('\n## ' + rest[1] if len(rest) > 1 else '\n')
    if SECTION_START in page and SECTION_END in page:
        before, rest = page.split(SECTION_START, 1)
        page = before + block + rest.split(SECTION_END, 1)[1].lstrip('\n')
    elif '\n## Method' in page:
        before, after = page.split('\n## Method', 1)
        page = before.rstrip('\n') + '\n\n' + block + '\n## Method' + after
    else:
        page = page.rstrip('\n') + '\n\n' + block
    write(PERFORMANCE_MD, page)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m benchmarks.ratelimit', description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--size', type=int, default=2000)
    parser.add_argument('--rate', type=float, default=5.0, help='calls per second (token bucket)')
    parser.add_argument('--burst', type=int, default=5)
    parser.add_argument('--modes', default='standard,adaptive', help='botocore retry modes (AWS_RETRY_MODE)')
    parser.add_argument('--max-attempts', type=int, default=3, help='AWS_MAX_ATTEMPTS (botocore: total attempts per call)')
    parser.add_argument('--runs', default='module,role')
    parser.add_argument('--stop-delay', type=float, default=1.0, help='seconds a desktop spends in STOPPING')
    parser.add_argument('--latency-ms', type=float, default=5.0)
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument('--write-docs', action='store_true', help='save the results and write the docs/performance.md section')
    parser.add_argument('--from-json', help='write the docs section from these saved results (no run)')
    args = parser.parse_args(argv)
    if args.from_json:
        with open(args.from_json, encoding='utf-8') as handle:
            data = json.load(handle)
        if os.path.abspath(args.from_json) != RESULTS_JSON:
            write(RESULTS_JSON, json.dumps(data, indent=2) + '\n')
        write_docs(data)
        print(section(data))
        return 0
    work = tempfile.mkdtemp(prefix='bench-ratelimit-')
    emulator = Emulator(work, args.latency_ms, args.stop_delay)
    results = []
    try:
        for run in args.runs.split(','):
            for mode in args.modes.split(','):
                print('[ratelimit %s] %s, retry mode %s ...' % (time.strftime('%H:%M:%S'), run, mode), flush=True)
                result = measure(emulator, run, mode, args, work)
                results.append(result)
                print(json.dumps({k: v for k, v in result.items() if k != 'log_tail'}), flush=True)
                if 'log_tail' in result:
                    print(result['log_tail'], flush=True)
    finally:
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)
    print()
    print('Rate limit %.3g calls/s, burst %d, %d desktops, AWS_MAX_ATTEMPTS=%d' % (args.rate, args.burst, args.size, args.max_attempts))
    print(table(results, args.rate))
    data = {'args': {k: v for k, v in vars(args).items() if k not in ('json', 'write_docs', 'from_json')}, 'results': results,
            'measured_at': time.strftime('%Y-%m-%d')}
    if args.json:
        write(args.json, json.dumps(data, indent=2) + '\n')
    if args.write_docs:
        write(RESULTS_JSON, json.dumps(data, indent=2) + '\n')
        write_docs(data)
    return 0


if __name__ == '__main__':
    sys.exit(main())
