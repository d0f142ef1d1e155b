from fairway_social.app import main

main()
