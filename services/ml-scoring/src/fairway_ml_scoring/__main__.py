from fairway_ml_scoring.app import main

main()
