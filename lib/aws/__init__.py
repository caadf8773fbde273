"""Small AWS building blocks shared by the AWS components."""
