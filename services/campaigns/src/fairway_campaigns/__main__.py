from fairway_campaigns.app import main

main()
