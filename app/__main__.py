from app.server.launcher import main

main()
