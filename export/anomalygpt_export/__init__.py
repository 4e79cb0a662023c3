"""AnomalyGPT export: official checkpoints (ImageBind-Huge, AnomalyGPT, PandaGPT, Vicuna) → the
bundles the anomalygpt-edge daemon loads (models/README.md "AnomalyGPT export").

Run the scripts as modules, e.g. `python3 -m anomalygpt_export.export_bundle --help`, with
`export/` on the import path (PYTHONPATH=export, or `pip install -e export/`).
"""
