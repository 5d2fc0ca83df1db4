# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark report: run context (machine, versions, settings), console table, docs/performance.md and the plot."""
from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys

from benchmarks import fleet
from benchmarks import scenarios as sc

ROOT = sc.ROOT
FINDINGS = os.path.join(ROOT, 'benchmarks', 'findings.md')
RATE_LIMIT = os.path.join(ROOT, 'benchmarks', 'ratelimit.md')  # written by benchmarks/ratelimit.py --write-docs
OPS = fleet.OPERATIONS
OP_SHORT = {fleet.DESCRIBE: 'Describe', fleet.TAGS: 'GetRes', fleet.CONNECTION: 'Conn', fleet.STOP: 'Stop'}


# --- context -------------------------------------------------------------------------------------------------
def _read(path):
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return handle.read()
    except OSError:
        return ''


def machine():
    cpu = next((line.split(':', 1)[1].strip() for line in _read('/proc/cpuinfo').splitlines() if line.startswith('model name')), platform.processor())
    mem_kb = next((int(line.split()[1]) for line in _read('/proc/meminfo').splitlines() if line.startswith('MemTotal:')), 0)
    return {
        'nproc': os.cpu_count(),
        'memory_gib': round(mem_kb / 1024.0 / 1024.0, 1),
        'cpu_model': cpu,
        'kernel': platform.release(),
        'load_average_start': os.getloadavg(),
    }


def _dist_version(name):
    from importlib import metadata  # pylint: disable=import-outside-toplevel
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False).stdout.strip() or None
    except OSError:
        return None


def versions():
    found = {
        'python': platform.python_version(),
        'ansible-core': _dist_version('ansible-core'),
        'boto3': _dist_version('boto3'),
        'botocore': _dist_version('botocore'),
        'moto': _dist_version('moto'),
    }
    try:
        import ansible_collections.amazon.aws as amazon_aws  # pylint: disable=import-outside-toplevel
        manifest = json.loads(_read(os.path.join(list(amazon_aws.__path__)[0], 'MANIFEST.json')) or '{}')
        found['amazon.aws'] = manifest.get('collection_info', {}).get('version')
    except ImportError:
        found['amazon.aws'] = None
    from benchmarks import venv  # pylint: disable=import-outside-toplevel
    aws = venv.tool('aws')
    if os.access(aws, os.X_OK):
        found['awscli'] = (_command_output([aws, '--version']) or '').split(' ')[0].replace('aws-cli/', '') or None
    commit = _command_output(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'])
    dirty = _command_output(['git', '-C', ROOT, 'status', '--porcelain', '--untracked-files=no'])
    found['fleetops.workspaces'] = '%s%s' % (commit, ' + uncommitted changes' if dirty else '') if commit else None
    return found


def context(args):
    return {
        'schema': 1,
        'mode': 'quick' if args.quick else 'full',
        'started': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'command': 'python -m benchmarks.run ' + ' '.join(sys.argv[1:]),
        'settings': {
            'sizes': args.sizes, 'repeat': args.repeat, 'repeat_large': args.repeat_large, 'latency_ms': args.latency_ms,
            'stop_delay_s': args.stop_delay, 'scenarios': args.scenarios, 'sample_module_per_host': args.sample,
            'sample_cli': args.cli_sample, 'fleet_seed': fleet.SEED,
        },
        'machine': machine(),
        'versions': versions(),
    }


# --- formatting ----------------------------------------------------------------------------------------------
def _wall(entry):
    if 'extrapolation' in entry and entry['extrapolation']['extrapolated']:
        x = entry['extrapolation']
        return '~%.0f (extrapolated: %d of %d measured in %.1f)' % (x['wall_s'], x['sample_size'], x['population'], entry['wall_median_s'])
    if entry['repetitions'] == 1:
        return '%.1f' % entry['wall_median_s']
    return '%.1f (%.1f–%.1f)' % (entry['wall_median_s'], entry['wall_min_s'], entry['wall_max_s'])


def _calls(entry):
    calls = entry['extrapolation']['calls'] if 'extrapolation' in entry else entry['calls']
    return ' / '.join(str(calls[op]) for op in OPS)


def _minimum(entry):
    return ' / '.join(str(entry['minimum'][op]) for op in OPS)


def _polls(entry):
    if 'extrapolation' in entry:
        return str(entry['extrapolation']['polls'])
    low, high = min(entry['polls']), max(entry['polls'])
    return str(low) if low == high else '%d–%d' % (low, high)


def _ratio(value, suffix='×'):
    return '' if value is None else '%.2f%s' % (value, suffix)


def _mib(kb):
    return '%.0f' % (kb / 1024.0)


def _growth(entry):
    if entry.get('pss_growth_kb_per_desktop') is None:
        return ''
    return '%.1f, %.1f' % (entry['pss_growth_kb_per_desktop'], entry['largest_process_growth_kb_per_desktop'])


def _verdict(met):
    return {True: 'met', False: '**missed**', None: 'not measured'}[met]


def _sizes(data):
    return sorted({int(size) for by_size in data['results'].values() for size in by_size})


def console_table(data):
    lines = ['%-27s %6s %32s %8s %22s %22s %7s %9s' % ('scenario', 'N', 'wall s (median, min-max)', 'x base A', 'calls D/G/C/Stop/Start',
                                                       'minimum D/G/C/Stop/Start', 'polls', 'PSS MiB')]
    for scenario, by_size in data['results'].items():
        for size in sorted(by_size, key=int):
            e = by_size[size]
            wall = ('~%.0f (x%d/%d)' % (e['extrapolation']['wall_s'], e['extrapolation']['population'], e['extrapolation']['sample_size'])
                    if 'extrapolation' in e and e['extrapolation']['extrapolated'] else
                    '%.2f (%.2f-%.2f)' % (e['wall_median_s'], e['wall_min_s'], e['wall_max_s']))
            lines.append('%-27s %6s %32s %8s %22s %22s %7s %9s%s' % (
                scenario, size, wall, _ratio(e.get('ratio_to_baseline_a'), 'x'), _calls(e), _minimum(e), _polls(e), _mib(e['peak_tree_pss_kb']),
                '' if e['calls_at_minimum'] or scenario in sc.SAMPLED_SCENARIOS else '  <- above the minimum'))
    return '\n'.join(lines)


def markdown(data, json_rel):
    settings, mach, vers = data['settings'], data['machine'], data['versions']
    out = []
    add = out.append
    add('# Performance')
    add('')
    add('<!-- Generated by `make bench` (`.venv/bin/python -m benchmarks.run`); edit benchmarks/report.py or benchmarks/findings.md instead. -->')
    add('')
    add('API calls, wall time and memory of the collection, measured on the WorkSpaces emulator against the boto3 script a '
        'user would otherwise write (baseline A) and against the per-desktop approaches (baseline B). Raw data: `%s` '
        '(also `benchmarks/results/latest.json`).' % json_rel)
    add('')
    add('Reproduce with `make bench` (about 10–15 minutes on 2 cores); `BENCH_ARGS="--sizes 100,1000 --repeat 2"` '
        'narrows it. `make test` runs `python -m benchmarks.run --quick` (N=100, one repetition), which only asserts the '
        'API call counts and writes `benchmarks/results/quick.json`.')
    add('')
    add('## Set-up')
    add('')
    add('- Emulator: `python -m emulator serve` (moto 5 + the project\'s extension) in one subprocess on 127.0.0.1 for the whole run, '
        '**%g ms latency added to every API call**, desktops stay **%g s in STOPPING** before STOPPED. Before every measured command '
        'it is reset and seeded again with the same fleet (fixed seed %d).' % (settings['latency_ms'], settings['stop_delay_s'], settings['fleet_seed']))
    add('- Fleet of N desktops: 2 regions (us-east-1, eu-west-1) × 2 directories, running modes 80%% AUTO_STOP / 10%% ALWAYS_ON / '
        '10%% MANUAL, states 85%% AVAILABLE / 15%% STOPPED, users 10%% CONNECTED, half of each directory tagged `%s=%s`. '
        'Every scenario stops the same desktops: tagged, stoppable (AVAILABLE, AUTO_STOP or MANUAL) and without a connected user.'
        % (fleet.TAG_KEY, fleet.TAG_VALUE))
    add('- Repetitions: %d per scenario and size (at most %d from N=10,000), interleaved (repetition 1 of every scenario, then '
        'repetition 2, ...) so that background load spreads over all of them.' % (settings['repeat'], settings['repeat_large']))
    add('')
    add('| N | tagged | stoppable (tagged) | user connected | to stop | already stopped (tagged) | ALWAYS_ON (tagged) |')
    add('|---:|---:|---:|---:|---:|---:|---:|')
    for size in sorted(data['fleets'], key=int):
        f = data['fleets'][size]
        row = ('{:,}'.format(int(size)), f['tagged'], f['candidates'], f['connected_candidates'], f['to_stop'], f['already_stopped'], f['always_on'])
        add('| %s | %d | %d | %d | %d | %d | %d |' % row)
    add('')
    add('Scenarios:')
    add('')
    for scenario in data['results']:
        add('- `%s`: %s' % (scenario, sc.DESCRIPTIONS[scenario]))
    add('')
    add('Machine: %s CPUs (%s), %s GiB memory, Linux %s; load average %.1f at the start and %.1f at the end of the run (the machine '
        'was shared, so absolute times are noisy; the ratios compare scenarios measured in the same run). Versions: %s. Run took %.0f s.'
        % (mach['nproc'], mach['cpu_model'], mach['memory_gib'], mach['kernel'], mach['load_average_start'][0],
           data.get('load_average_end', [0])[0], ', '.join('%s %s' % (k, v) for k, v in vers.items() if v), data.get('duration_s', 0)))
    add('')
    add('## Wall time and memory')
    add('')
    add('![wall time and API calls against N, log-log](performance.png)')
    add('')
    add('| scenario | N | wall time s, median (min–max) | × baseline A | baseline B-module / this | baseline B-CLI / this | '
        'peak PSS of the process tree MiB (RSS sum) | largest process MiB | growth KB/desktop: tree PSS, largest process |')
    add('|---|---:|---|---:|---:|---:|---:|---:|---:|')
    for scenario, by_size in data['results'].items():
        for size in sorted(by_size, key=int):
            e = by_size[size]
            speed = e.get('speedup_vs', {})
            add('| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |' % (
                scenario, '{:,}'.format(int(size)), _wall(e), _ratio(e.get('ratio_to_baseline_a')),
                _ratio(speed.get(sc.BASELINE_B_MODULE)), _ratio(speed.get(sc.BASELINE_B_CLI)),
                '%s (%s)' % (_mib(e['peak_tree_pss_kb']), _mib(e['peak_tree_rss_kb'])), _mib(e['max_process_rss_kb']), _growth(e)))
    add('')
    add('## API calls')
    add('')
    add('Counted from the emulator\'s call log (it logs every call, faulted ones too; no fault is injected here), as '
        '%s. Wait polls (a DescribeWorkspaces whose ids were all already sent to StopWorkspaces) are counted apart: '
        'their number depends on time; the minimum is one round over the stopped desktops.' % ' / '.join(OPS))
    add('')
    add('| scenario | N | calls | minimum | wait polls (minimum) | at the minimum |')
    add('|---|---:|---|---|---|---|')
    for scenario, by_size in data['results'].items():
        for size in sorted(by_size, key=int):
            e = by_size[size]
            at_min = 'yes' if e['calls_at_minimum'] else ('no (per desktop by design)' if scenario in sc.SAMPLED_SCENARIOS else '**no**')
            extra = ' (extrapolated)' if e.get('extrapolation', {}).get('extrapolated') else ''
            row = (scenario, '{:,}'.format(int(size)), _calls(e), extra, _minimum(e), _polls(e), e['minimum_polls'], at_min)
            add('| `%s` | %s | %s%s | %s | %s (%d) | %s |' % row)
    add('')
    add('Minimum per region (summed over the 2 regions): selection by tag: ⌈tagged/100⌉ GetResources (tag filter server-side), '
        'the fewest DescribeWorkspaces that return the tagged desktops\' states (⌈tagged/25⌉ by id here, fewer than paging the '
        'directories), ⌈stoppable/25⌉ DescribeWorkspacesConnectionStatus, ⌈to stop/25⌉ StopWorkspaces; `module-ids` '
        '(explicit ids, skip_connected off): ⌈ids/25⌉ DescribeWorkspaces + ⌈ids/25⌉ StopWorkspaces; `module-start` and '
        '`baseline-start` (the tagged STOPPED desktops by id): ⌈ids/25⌉ DescribeWorkspaces + ⌈ids/25⌉ StartWorkspaces; '
        '`baseline-b-cli` only stops. The `x base A` column of `module-start` compares it with `baseline-start`.')
    add('')
    add('## Targets')
    add('')
    add('| target | result | measured |')
    add('|---|---|---|')
    for target in data['targets']:
        add('| %s | %s | %s |' % (target['target'], _verdict(target['met']), target['detail']))
    add('')
    for section in (FINDINGS, RATE_LIMIT):
        text = _read(section).strip()
        if text:
            add(text)
            add('')
    add('## Method')
    add('')
    add('- Wall time: from the start of the command (`ansible-playbook ...`, `python boto3_stop.py`, the CLI loop) to its exit, '
        'including Python and Ansible start-up and the inventory parsing.')
    add('- Memory: the proportional set size (PSS: pages shared between ansible-playbook and its forks counted once) of the '
        'command\'s whole process tree (ansible-playbook, its forks and the module processes), summed and sampled every 50 ms '
        'from /proc, peak kept; the plain RSS sum (shared pages counted in every process) is in brackets. "Largest process" is '
        'exact (`wait4` `ru_maxrss`, the maximum over every process of the tree). Growth per desktop: (peak at the largest N − '
        'peak at the smallest N) / ΔN.')
    add('- Baseline B is measured on a fixed random sample when the population is larger (%d inventory hosts for '
        '`baseline-b-module-per-host`, %d desktops for `baseline-b-cli`) and extrapolated: fixed cost (the inventory '
        'parsing, measured apart with `--list-hosts`) + (sample time − fixed cost) / sample × population; calls likewise. '
        '`baseline-b-module-per-host` runs for every tagged desktop (the module then reports stopped / already stopped / '
        'skipped), `baseline-b-cli` for every desktop to stop, one after another, without waiting.'
        % (settings['sample_module_per_host'], settings['sample_cli']))
    add('- Every run is checked against the emulator\'s ground truth: exactly the expected desktops are STOPPED afterwards '
        '(STOPPING accepted for the CLI, which does not wait), nothing else changed, the command exited 0 and no API call failed.')
    add('')
    return '\n'.join(out)


def write_docs(data, doc_path, plot_path, json_rel):
    with open(doc_path, 'w', encoding='utf-8') as handle:
        handle.write(markdown(data, json_rel))
    from benchmarks import venv  # pylint: disable=import-outside-toplevel
    venv.ensure()
    tmp = plot_path + '.json.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(data, handle)
    try:
        subprocess.run([venv.tool('python'), '-m', 'benchmarks.plot', tmp, plot_path], cwd=ROOT, check=True)
    finally:
        os.unlink(tmp)
