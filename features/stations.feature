Feature: Stations from the database to the board
  As a data engineer at the CTA
  I want the stations table streamed from PostgreSQL through Kafka Connect and Faust
  So that the board always knows every station of every line

  Background:
    Given the CTA network from our station data
    And the pipeline is set up

  Scenario: Every stop row reaches the raw stations topic
    Then the raw stations topic holds 230 rows
    And every raw row carries the ten columns of the stations table

  Scenario: Every station of the three lines appears once in the stations table
    Then the stations table holds 33 blue, 33 red and 28 green stations
    And every station in the stations table has the line and order of our station data
    And Clark/Lake is in the stations table on the blue and the green line
    And the two Harlem stations of the blue line are two stations
    And rows on no simulated line were dropped and counted

  Scenario: A row update in the database reaches the dashboard
    When the name of stop 30374 is changed to "Clark/Lake (Loop)" in the database
    Then the dashboard shows the blue line station 40380 as "Clark/Lake (Loop)"

  Scenario: A malformed station row goes to the dead-letter topic with its reason
    When a malformed row is written to the raw stations topic
    Then the dead-letter topic holds that row with a reason
    And the stations table still holds 94 station entries

  Scenario: A station deleted in the database leaves the board, and comes back when re-inserted
    Given the dashboard shows the red line station 41190 as "Jarvis"
    When the rows of station 41190 are deleted from the database
    Then the raw stations topic ends with a tombstone for every stop of station 41190
    And the stations table topic ends with a tombstone for "red:41190"
    And the dashboard no longer shows station 41190 on the red line
    When the rows of station 41190 are inserted again
    Then the dashboard shows the red line station 41190 as "Jarvis"

  Scenario: A station moved off every line leaves the board
    Given the dashboard shows the red line station 41190 as "Jarvis"
    When every stop of station 41190 is taken off every line in the database
    Then the stations table topic ends with a tombstone for "red:41190"
    And the dashboard no longer shows station 41190 on the red line
