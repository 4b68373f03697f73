Feature: The live status board
  As a rider or a controller
  I want one page that shows every line, its trains, entries and the weather
  So that I can see the state of the 'L' at a glance

  Background:
    Given the CTA network from our station data
    And the pipeline is set up
    And a simulation of 10 trains per line starting on Monday 2026-11-23 at 08:00

  Scenario: After some steps the board shows every station and every train once
    When the simulation starts
    And the simulation runs 6 steps
    Then the dashboard shows 33 blue, 33 red and 28 green stations in order
    And the dashboard shows each of the 30 running trains exactly once
    And the dashboard shows turnstile counts and the weather

  Scenario: From the first snapshot the header says when it is in Chicago and what kind of day
    When the simulation starts
    Then the dashboard shows the weather
    And the dashboard header shows 08:00 CST on Mon 23 Nov 2026, weekday ridership
    When the simulation runs 3 steps
    Then the dashboard header shows 08:15 CST on Mon 23 Nov 2026, weekday ridership
    And the dashboard says "entries since 08:05"

  Scenario: A station name with HTML in it renders as text
    When the name of stop 30374 is changed to "<b>Clark</b>" in the database
    Then the dashboard page shows "<b>Clark</b>" as text, not markup

  Scenario: Arrivals for a station not yet known are not lost
    Given a dashboard that has not seen the stations yet
    When the simulation starts
    And the dashboard reads the arrivals before the stations
    Then the dashboard shows each of the 30 running trains exactly once
