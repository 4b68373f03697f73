Feature: Train arrivals
  As a transit engineer watching the status board
  I want every train arrival reported at the right station, line and direction
  So that the board always shows where each train is

  Background:
    Given the CTA network from our station data
    And a simulation of 10 trains per line starting on Monday 2026-11-23 at 08:00

  Scenario: Trains are placed along each line when the simulation starts
    When the simulation starts
    Then the arrivals topic holds 30 arrival events
    And no placement event names a previous station
    And the blue line has trains BL000 to BL009 each exactly once
    And the red line has trains RL000 to RL009 each exactly once
    And the green line has trains GL000 to GL009 each exactly once

  Scenario: Every train moves exactly one station per step
    When the simulation starts
    And the simulation runs 6 steps
    Then the arrivals topic holds 210 arrival events
    And every step moved each of the 30 trains exactly once
    And every arrival after placement names the station and direction its train left
    And every arrival decodes with the schema registered for the arrivals topic

  Scenario Outline: Trains turn around at the end of the line
    When the simulation starts
    And the simulation runs 80 steps
    Then trains arriving at the first station of the <line> line travel in direction b
    And trains arriving at the last station of the <line> line travel in direction a
    And no two trains of the <line> line ever held the same slot
    And the <line> line still has 10 distinct trains

    Examples:
      | line  |
      | blue  |
      | red   |
      | green |

  Scenario: One station's arrivals stay in order on a partitioned topic
    When the simulation starts
    And the simulation runs 20 steps
    Then the arrivals topic has more than one partition
    And all arrivals of each station are on one partition in event-time order

  Scenario: A schema change that breaks BACKWARD compatibility is refused
    Given the arrival producer has registered its schema
    When a producer starts with an arrival schema that adds a required field
    Then the registry refuses the schema as incompatible
    And the producer's error names the subject "org.chicago.cta.station.arrivals.v1-value"
    And the registered arrival schema is unchanged
