# fleetops.workspaces developer commands. Everything installs into project-local venvs from the package index.
SHELL := bash
.DEFAULT_GOAL := help

.PHONY: help demo test venv tree sanity units integration lint docs-lint emulator bench bench-quick soak build changelog clean clean-venv lock

help:  ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

demo: venv  ## Stop desktops by tag with the collection playbook on the embedded emulator, then start them again
	@tools/demo.sh

test: venv  ## Run every test: sanity, units (2 ansible-core releases), integration, lint, docs lint, quick bench (2 lanes at once)
	@tools/test.sh

venv:  ## Create or update the project-local virtual environments
	@tools/bootstrap.sh

tree: venv  ## Lay out .build/ansible_collections/ for ansible-test (also done by `make test`)
	@tools/build-tree.sh

sanity units integration lint docs-lint bench-quick: venv
	@tools/test.sh $@

emulator: venv  ## Start the WorkSpaces emulator in the foreground (prints its URL)
	@.venv/bin/python -m emulator serve --port $${PORT:-0} $${EMULATOR_ARGS:-}

bench: venv  ## Full benchmark report (docs/performance.md)
	@.venv/bin/python -m benchmarks.run $${BENCH_ARGS:-}

soak: venv  ## Reliability suite at full size (10,000 desktops under faults, 2,000 for cancel / inventory / races)
	@FLEETOPS_SOAK=1 .venv/bin/python -m pytest tests/reliability tests/functional/test_concurrency.py -q -p no:cacheprovider --durations=20

build: tree  ## Build the collection tarball into .build/
	@cd .build/ansible_collections/fleetops/workspaces && ../../../../.venv/bin/ansible-galaxy collection build --force --output-path ../../../

changelog: venv  ## Lint the changelog fragments
	@.venv/bin/antsibull-changelog lint

lock:  ## Re-pin requirements/constraints-dev.txt from the current .venv
	@.venv/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements/constraints-dev.txt

clean:  ## Remove build trees and test output (keeps the venvs)
	rm -rf .build tests/output

clean-venv: clean  ## Remove the venvs too
	rm -rf .venv .venv-core217
