"""Pure processors (station transform, turnstile counting) and their in-process runners."""
