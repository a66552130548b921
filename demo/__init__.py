"""The main job's scenario (`mlops-fc run` / `demo`): real windows streamed through the services, judged."""
