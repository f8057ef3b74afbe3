"""The run report: one self-contained HTML file (inline SVG plots, no external assets) from the run directory."""
