# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plot a benchmark result: wall time and API calls against N, log-log. Runs in .venv-bench (matplotlib).

    .venv-bench/bin/python -m benchmarks.plot RESULT.json OUT.png
"""
from __future__ import annotations

import json
import sys

OPERATIONS = ('DescribeWorkspaces', 'GetResources', 'DescribeWorkspacesConnectionStatus', 'StopWorkspaces', 'StartWorkspaces')
STYLE = {
    'role-tag': ('tab:blue', 'o', '-'),
    'role-tag-idle': ('tab:olive', 'o', ':'),
    'role-inventory': ('tab:cyan', 's', '-'),
    'role-inventory-unaccounted': ('tab:purple', 's', ':'),
    'module-ids': ('tab:green', '^', '-'),
    'module-start': ('tab:brown', '>', '-'),
    'baseline-start': ('grey', 'D', '--'),
    'baseline-a': ('black', 'D', '-'),
    'baseline-b-module-per-host': ('tab:red', 'v', '--'),
    'baseline-b-cli': ('tab:orange', 'x', '--'),
}


def series(entries, scenario, value):
    points = sorted((int(size), value(e)) for size, e in entries.items())
    return [p[0] for p in points], [p[1] for p in points], scenario


def plot(data, out):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    from matplotlib.ticker import FuncFormatter  # pylint: disable=import-outside-toplevel

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5))

    def wall(e):
        return e['extrapolation']['wall_s'] if 'extrapolation' in e else e['wall_median_s']

    def calls(e):
        counted = e['extrapolation']['calls'] if 'extrapolation' in e else e['calls']
        return sum(counted.get(op, 0) for op in OPERATIONS)

    minimum_drawn = False
    for scenario, entries in data['results'].items():
        color, marker, line = STYLE.get(scenario, ('grey', '.', ':'))
        xs, ys, label = series(entries, scenario, wall)
        left.plot(xs, ys, color=color, marker=marker, linestyle=line, label=label)
        if any('extrapolation' not in e for e in entries.values()):
            lows = [entries[str(x)]['wall_min_s'] for x in xs]
            highs = [entries[str(x)]['wall_max_s'] for x in xs]
            left.fill_between(xs, lows, highs, color=color, alpha=0.15)
        xs, ys, label = series(entries, scenario, calls)
        right.plot(xs, ys, color=color, marker=marker, linestyle=line, label=label)
        if scenario == 'role-tag' and not minimum_drawn:
            xs, ys, dummy = series(entries, scenario, lambda e: sum(e['minimum'].get(op, 0) for op in OPERATIONS))
            right.plot(xs, ys, color='grey', linestyle=':', linewidth=3, zorder=5, label='minimum, selection by tag')
            minimum_drawn = True

    settings = data['settings']
    for axis, title, ylabel in ((left, 'Wall time (B: extrapolated from a sample)', 'seconds'),
                                (right, 'API calls, wait polls excluded', 'calls')):
        axis.set_xscale('log')
        axis.set_yscale('log')
        axis.set_xlabel('desktops in the fleet (N)')
        axis.set_ylabel(ylabel)
        axis.set_title(title)
        axis.grid(True, which='both', alpha=0.3)
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, position: '{:,.0f}'.format(value)))
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, position: '{:,g}'.format(value)))
    left.legend(fontsize='small')
    right.legend(fontsize='small')
    figure.suptitle('fleetops.workspaces on the emulator: %g ms per API call, %g s STOPPING, %s CPUs'
                    % (settings['latency_ms'], settings['stop_delay_s'], data['machine']['nproc']))
    figure.tight_layout()
    figure.savefig(out, dpi=90)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0], encoding='utf-8') as handle:
        data = json.load(handle)
    plot(data, argv[1])
    return 0


if __name__ == '__main__':
    sys.exit(main())
