Feature: Weather
  As a rider reading the board
  I want the current Chicago weather on it
  So that I know what waits outside the station

  Background:
    Given the CTA network from our station data

  Scenario: Weather arrives through the REST Proxy once per simulated hour
    Given a simulation of 10 trains per line starting on Monday 2026-11-23 at 06:00
    When the simulation starts
    And the simulation runs 36 steps
    Then the weather topic holds 4 weather events
    And every weather event decodes with the schema registered for the weather topic
    And the weather value schema is registered under "org.chicago.cta.weather.v1-value"

  Scenario: The weather station reports as the simulation starts, then on the hour
    Given a simulation of 10 trains per line starting on Monday 2026-11-23 at 02:35
    When the simulation starts
    Then the weather topic holds 1 weather event
    And the weather readings are stamped 02:35 in Chicago
    When the simulation runs 5 steps
    Then the weather topic holds 2 weather events
    And the weather readings are stamped 02:35, 03:00 in Chicago

  Scenario Outline: Temperatures follow the season and stay within bounds
    Given a weather station reporting hourly from <date>
    When it reports for 7 days through the REST Proxy
    Then the weather topic holds 168 weather events
    And every temperature lies between <low> and <high> degrees Fahrenheit
    And the week's mean temperature is <side> 70 degrees Fahrenheit
    And every weather status is one of sunny, partly_cloudy, cloudy, windy, precipitation

    Examples:
      | date       | low | high | side  |
      | 2027-01-15 | -30 | 80   | below |
      | 2027-07-15 | 40  | 110  | above |

  Scenario: An invalid weather payload is refused and nothing is written
    When a weather reading with a text temperature is posted to the REST Proxy
    Then the REST Proxy answers 422 with error code 42202
    And the weather topic holds 0 weather events

  Scenario: A weather payload with the wrong content type is refused
    When a weather reading is posted with content type "application/json"
    Then the REST Proxy answers 415
    And the weather topic holds 0 weather events
