"""Text utilities the pipeline reads articles with: chunking, injection withholding, grounding,
dates and name normalisation. No model, no I/O."""
