"""Seeing the pipeline run: one trace per session (`tracing`), the metrics an operator alerts on
(`metrics`), log records that name their trace and session (`logs`), and where all of it goes,
chosen by settings (`setup`)."""
