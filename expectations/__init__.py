"""Great Expectations suites over the warehouse, the validation run, and the gate in front of scoring."""
