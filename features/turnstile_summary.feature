Feature: Turnstile summary
  As a ridership analyst
  I want KSQL to count entries per station
  So that the board shows how many riders entered each station

  Background:
    Given the CTA network from our station data
    And the pipeline is set up

  Scenario: The summary counts every entry exactly once
    Given a simulation of 10 trains per line starting on Monday 2026-11-23 at 07:30
    When the simulation starts
    And the simulation runs 12 steps
    Then the sum of the TURNSTILE_SUMMARY counts equals the turnstile events produced
    And every station with entries has a summary row keyed by its station id

  Scenario: The summary table is the one our statement files describe
    Then the KSQL statements created the stream TURNSTILE and the table TURNSTILE_SUMMARY
    And submitting the statement files again is not an error
