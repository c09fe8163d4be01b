# Import id: the app's C1 id (in the app's URL in C1).
terraform import conductorone_app.example 2abcAPPID
