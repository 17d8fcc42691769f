Console.WriteLine("persongen");
