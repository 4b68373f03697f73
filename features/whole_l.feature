Feature: The whole 'L': eight lines, the Loop, Green's branches and ridership by month
  As a rider or a controller of the CTA
  I want the board to show every line of the 'L' as it runs, with the riders of a chosen month
  So that the status board is the CTA's board, not a three-line exercise

  Background:
    Given the whole 'L' network

  Scenario: Each line has the station count of the data
    Given the pipeline is set up
    Then the stations table holds these stations per line
      | line   | stations |
      | red    | 33       |
      | blue   | 33       |
      | green  | 30       |
      | brown  | 27       |
      | purple | 26       |
      | pink   | 22       |
      | orange | 16       |
      | yellow | 3        |
    And the dashboard shows every line's stations in running order per pattern
    And every platform row in the stations table carries its lines, ADA and coordinates

  Scenario: A Brown train goes from Kimball round the Loop counter-clockwise and back
    Given a simulation with one brown train starting on Monday 2026-11-23 at 02:00
    When the simulation starts
    And the simulation runs 45 steps
    Then train BR000 ran Kimball, the Brown Line to Merchandise Mart, the Loop from Washington/Wells to Clark/Lake, and back to Kimball
    And its arrivals were named "To the Loop" on the way in and "To Kimball" from the Loop on

  Scenario: An Orange train goes from Midway round the Loop clockwise
    Given a simulation with one orange train starting on Monday 2026-11-23 at 02:00
    When the simulation starts
    And the simulation runs 23 steps
    Then train OR000 ran Midway, the Orange Line to Roosevelt, the Loop from Harold Washington Library-State/Van Buren to Adams/Wabash, and back to Midway

  Scenario: A Green train reaches each south branch
    Given a simulation with one green train starting on Monday 2026-11-23 at 02:00
    When the simulation starts
    And the simulation runs 108 steps
    Then train GL000 reached Ashland/63rd and then Cottage Grove
    And every arrival after placement names the station it left

  Scenario: Clark/Lake shows the trains of six lines
    Given the pipeline is set up
    And a simulation with the default trains starting on Monday 2026-11-23 at 02:00
    When the simulation starts
    And the simulation runs up to 30 steps watched by the dashboard
    Then the dashboard showed trains of six lines at Clark/Lake

  Scenario Outline: Clark/Lake's entries follow the ridership month
    Given the whole 'L' network with the ridership of <month>
    And a simulation with the default trains starting on Monday 2026-11-23 at 08:00
    When the simulation starts
    And the simulation runs 12 steps
    Then Clark/Lake's average weekday entries in the data are <average>
    And the entries at Clark/Lake match that weekday ridership for those steps

    Examples:
      | month   | average |
      | 2019-10 | 21995.7 |
      | 2024-04 | 8239.9  |
      | 2020-04 | 1037.4  |

  Scenario: Berwyn is closed in April 2024
    Given the whole 'L' network with the ridership of 2024-04
    And the pipeline is set up
    And a simulation with the default trains starting on Monday 2026-11-23 at 08:00
    When the simulation starts
    And the simulation runs 2 steps
    Then the dashboard shows Berwyn as closed on the red line
    And no turnstile event comes from Berwyn
    And Argyle is open on the dashboard
