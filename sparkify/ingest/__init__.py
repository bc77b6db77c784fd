"""Raw layer: land log files in the bronze Delta tables, quarantining what cannot be parsed."""
