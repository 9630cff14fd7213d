"""Gas Rolling AQ service: monthly AQ calculation, formula-year snapshot, corrections and notifications."""
