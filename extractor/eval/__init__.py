"""Evaluation: gold cases, the scorer (independent of the pipeline on purpose), the runner and
reports."""
