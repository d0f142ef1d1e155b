from fairway_journeys.app import main

main()
