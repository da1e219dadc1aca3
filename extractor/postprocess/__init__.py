"""Post-processing of assembled records: actor resolution, participants as actors, sanctions
authorities as jurisdictions, record-vs-quote consistency checks."""
