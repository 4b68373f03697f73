Feature: Turnstile entries per hour
  As a rider looking at a station
  I want KSQL to count entries per station per hour of the entries' own time
  So that the station panel can chart today's entries against a typical day

  Background:
    Given the CTA network from our station data
    And the pipeline is set up

  Scenario: Every entry is counted once, in its station's event-time hour
    Given a simulation of 10 trains per line starting on Monday 2026-11-23 at 07:30
    When the simulation starts
    And the simulation runs 12 steps
    Then the TURNSTILE_HOURLY counts per station and hour equal the turnstile events produced
    And every TURNSTILE_HOURLY key is its station id then its window start as 8 bytes
    And the sum of the TURNSTILE_HOURLY counts equals the sum of the TURNSTILE_SUMMARY counts
    And a KSQL engine started afresh restores every TURNSTILE_HOURLY count from its sink

  Scenario: The board's station detail charts the hourly counts
    Given a simulation of 10 trains per line starting on Monday 2026-11-23 at 07:30
    When the simulation starts
    And the simulation runs 12 steps
    Then the station detail of every station with entries shows its TURNSTILE_HOURLY counts for 2026-11-23
