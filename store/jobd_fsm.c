//  placeholder: being written
