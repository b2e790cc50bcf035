# Thin wrapper over meson. The two set-up commands of README.md: `make run` and `make test`.
BUILD ?= build
XVFB = xvfb-run -a -s '-screen 0 1280x800x24'
GUI_ENV = GDK_BACKEND=x11 GSK_RENDERER=cairo NO_AT_BRIDGE=1 GTK_A11Y=none

.PHONY: all deps test-deps bench-deps build run test bench soak fuzz sweep clean

all: build

deps:
	@./tools/install-deps.sh

test-deps:
	@./tools/install-deps.sh test

bench-deps:
	@./tools/install-deps.sh bench

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Opens the window; without a display, runs the default experiment headless into ./out/.
run: build
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  GSETTINGS_SCHEMA_DIR=$(BUILD)/resources ./$(BUILD)/app/contrastlab; \
	else \
	  echo "No display found: running the default experiment headless; results go to ./out/"; \
	  ./$(BUILD)/app/contrastlab --headless --preset default --out out; \
	fi

test: test-deps build
	$(XVFB) env $(GUI_ENV) meson test -C $(BUILD) --print-errorlogs

# Speed only (step, layers, trainer); the 30-minute soak is `make soak`.
bench: bench-deps build
	meson test -C $(BUILD) --benchmark --suite speed --verbose

# A preset's sweep headless, JOBS cells at a time, each in its own process on cores/JOBS threads:
# `make sweep PRESET=randbits-table JOBS=2 OUT=runs/rbt`. On 2 cores, two 1-thread cells at once
# finish ~10% sooner than one 2-thread cell after another; the results are the same.
PRESET ?= randbits-table
JOBS ?= 2
sweep: build
	./$(BUILD)/app/contrastlab --headless --preset $(PRESET) --jobs $(JOBS) --out $(or $(OUT),runs/$(PRESET))

soak: build
	meson test -C $(BUILD) --benchmark --suite soak --verbose

# The libFuzzer targets of tests/fuzz, longer than CI runs them (FUZZ_SECONDS each, default 600).
fuzz: test-deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} ./tests/fuzz/run.sh

clean:
	rm -rf $(BUILD)
