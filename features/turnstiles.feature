Feature: Turnstile entries
  As a ridership analyst
  I want one event for every rider who enters a station
  So that entry counts reflect the right day type and hour

  Background:
    Given the CTA network from our station data

  Scenario Outline: Entries follow the ridership of the day type and the hour
    Given a simulation of 10 trains per line starting on <day> at 08:00
    When the simulation starts
    And the simulation runs 12 steps
    Then the entries at Clark/Lake match its <day_type> ridership for those steps
    And every station of the three lines reported entries

    Examples:
      | day                 | day_type       |
      | Monday 2026-11-23   | weekday        |
      | Saturday 2026-11-28 | saturday       |
      | Sunday 2026-11-29   | sunday_holiday |
      | Thursday 2026-11-26 | sunday_holiday |

  Scenario: The morning peak counts far more riders than the night
    Given a simulation of 10 trains per line starting on Monday 2026-11-23 at 03:00
    When the simulation starts
    And the simulation runs 72 steps
    Then the entries between 08:00 and 09:00 are at least 5 times those between 03:00 and 04:00

  Scenario: Each entry is one event decodable with the registered schema
    Given a simulation of 10 trains per line starting on Monday 2026-11-23 at 17:00
    When the simulation starts
    And the simulation runs 3 steps
    Then the turnstile topic holds exactly one event per simulated entry
    And every turnstile event decodes with the schema registered for the turnstile topic
    And every turnstile event is keyed by its station id
