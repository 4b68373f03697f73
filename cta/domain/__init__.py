"""The domain: lines, trains, ridership, weather and events. Pure Python, no I/O."""
