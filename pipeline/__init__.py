"""The whole pipeline on one machine: the demo scenario and the `mlops-fc run` main job."""
