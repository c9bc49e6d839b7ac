"""Series: touring and recurring runs of events that share their title, format and texts."""
