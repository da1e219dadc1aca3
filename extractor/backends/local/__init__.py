"""llama.cpp in process: the backend, the embedded model store, the decoding loop guard and
the saved system-prompt state."""
