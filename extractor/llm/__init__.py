"""What the model is asked and how its answers are read: draft models, prompt sets, partial JSON."""
