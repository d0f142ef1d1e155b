from fairway_timeline.app import main

main()
